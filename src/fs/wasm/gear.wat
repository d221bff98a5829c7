;; Gear-hash cut-point search for the FastCDC chunker (src/fs/chunker.ts).
;; Built by src/fs/wasm/assemble.ts into gear.wasm (no external tools needed).
;;
;; Memory layout (set up by src/fs/wasm/gear.ts):
;;   [0, 1024)      the gear table: 256 little-endian i32
;;   [1024, ...)    the bytes to scan; positions below are relative to 1024: the scan
;;                  window, then read buffers the hasher fills in place (gear.ts)
;; The memory is shared (a SharedArrayBuffer) and imported, so the hash worker can read
;; those buffers and run xxh64 over them with an instance of its own.
;;
;; scan(p, end, mask): roll h = (h << 1) + G[byte] over bytes p..end-1 and return the
;; position just past the first byte after which (h & mask) == 0, or -1 if there is none.
;; The hash lives in the exported global "h" so a scan can resume in the next buffer.
;; The main loop is unrolled eight times: per byte the work is a load, a table load, a
;; shift-add and a test, so the loop counter and bounds check were a large share
;; (unrolled 2x: ~1.5 GB/s, 8x: ~2.1 GB/s; bench/notes/chunking.md).
(module
  (import "env" "memory" (memory 260 260 shared))
  (global $h (export "h") (mut i32) (i32.const 0))
  (func (export "scan") (param $p i32) (param $end i32) (param $mask i32) (result i32)
    (local $h i32)
    (local $last i32)
    global.get $h
    local.set $h
    ;; eight bytes at a time while p < end - 7 (signed: end may be below 7)
    local.get $end
    i32.const 7
    i32.sub
    local.set $last
    block $tail
      local.get $p
      local.get $last
      i32.ge_s
      br_if $tail
      loop $eight
        ;; byte 0
        local.get $h
        i32.const 1
        i32.shl
        local.get $p
        i32.load8_u offset=1024
        i32.const 2
        i32.shl
        i32.load
        i32.add
        local.tee $h
        local.get $mask
        i32.and
        i32.eqz
        if
          local.get $h
          global.set $h
          local.get $p
          i32.const 1
          i32.add
          return
        end
        ;; byte 1
        local.get $h
        i32.const 1
        i32.shl
        local.get $p
        i32.load8_u offset=1025
        i32.const 2
        i32.shl
        i32.load
        i32.add
        local.tee $h
        local.get $mask
        i32.and
        i32.eqz
        if
          local.get $h
          global.set $h
          local.get $p
          i32.const 2
          i32.add
          return
        end
        ;; byte 2
        local.get $h
        i32.const 1
        i32.shl
        local.get $p
        i32.load8_u offset=1026
        i32.const 2
        i32.shl
        i32.load
        i32.add
        local.tee $h
        local.get $mask
        i32.and
        i32.eqz
        if
          local.get $h
          global.set $h
          local.get $p
          i32.const 3
          i32.add
          return
        end
        ;; byte 3
        local.get $h
        i32.const 1
        i32.shl
        local.get $p
        i32.load8_u offset=1027
        i32.const 2
        i32.shl
        i32.load
        i32.add
        local.tee $h
        local.get $mask
        i32.and
        i32.eqz
        if
          local.get $h
          global.set $h
          local.get $p
          i32.const 4
          i32.add
          return
        end
        ;; byte 4
        local.get $h
        i32.const 1
        i32.shl
        local.get $p
        i32.load8_u offset=1028
        i32.const 2
        i32.shl
        i32.load
        i32.add
        local.tee $h
        local.get $mask
        i32.and
        i32.eqz
        if
          local.get $h
          global.set $h
          local.get $p
          i32.const 5
          i32.add
          return
        end
        ;; byte 5
        local.get $h
        i32.const 1
        i32.shl
        local.get $p
        i32.load8_u offset=1029
        i32.const 2
        i32.shl
        i32.load
        i32.add
        local.tee $h
        local.get $mask
        i32.and
        i32.eqz
        if
          local.get $h
          global.set $h
          local.get $p
          i32.const 6
          i32.add
          return
        end
        ;; byte 6
        local.get $h
        i32.const 1
        i32.shl
        local.get $p
        i32.load8_u offset=1030
        i32.const 2
        i32.shl
        i32.load
        i32.add
        local.tee $h
        local.get $mask
        i32.and
        i32.eqz
        if
          local.get $h
          global.set $h
          local.get $p
          i32.const 7
          i32.add
          return
        end
        ;; byte 7
        local.get $h
        i32.const 1
        i32.shl
        local.get $p
        i32.load8_u offset=1031
        i32.const 2
        i32.shl
        i32.load
        i32.add
        local.tee $h
        local.get $mask
        i32.and
        i32.eqz
        if
          local.get $h
          global.set $h
        local.get $p
        i32.const 8
        i32.add
        return
      end
        local.get $p
        i32.const 8
        i32.add
        local.tee $p
        local.get $last
        i32.lt_s
        br_if $eight
      end
    end
    ;; then one byte at a time
    block $none
      local.get $p
      local.get $end
      i32.ge_s
      br_if $none
      loop $one
        local.get $h
        i32.const 1
        i32.shl
        local.get $p
        i32.load8_u offset=1024
        i32.const 2
        i32.shl
        i32.load
        i32.add
        local.tee $h
        local.get $mask
        i32.and
        i32.eqz
        if
          local.get $h
          global.set $h
          local.get $p
          i32.const 1
          i32.add
          return
        end
        local.get $p
        i32.const 1
        i32.add
        local.tee $p
        local.get $end
        i32.lt_s
        br_if $one
      end
    end
    local.get $h
    global.set $h
    i32.const -1
  )
  ;; xxh64(p, len): XXH64 (seed 0) of memory[p, p+len), at absolute addresses (not relative
  ;; to 1024 like scan). A fast check, not part of the protocol: a large file re-hashed after
  ;; an edit uses it to find which of its old blocks are still where they were
  ;; (src/fs/rehash.ts); every block it cannot vouch for is hashed with SHA-256 as ever.
  ;; Four independent lanes per 32-byte stripe, as the XXH64 specification has them.
  (func (export "xxh64") (param $p i32) (param $len i32) (result i64)
    (local $end i32)
    (local $v1 i64)
    (local $v2 i64)
    (local $v3 i64)
    (local $v4 i64)
    (local $h i64)
    local.get $p
    local.get $len
    i32.add
    local.set $end
    local.get $len
    i32.const 32
    i32.ge_u
    if
      i64.const 11400714785074694791
      i64.const 14029467366897019727
      i64.add
      local.set $v1
      i64.const 14029467366897019727
      local.set $v2
      i64.const 0
      local.set $v3
      i64.const 0
      i64.const 11400714785074694791
      i64.sub
      local.set $v4
      loop $stripe
        local.get $v1
        local.get $p
        i64.load offset=0
        i64.const 14029467366897019727
        i64.mul
        i64.add
        i64.const 31
        i64.rotl
        i64.const 11400714785074694791
        i64.mul
        local.set $v1
        local.get $v2
        local.get $p
        i64.load offset=8
        i64.const 14029467366897019727
        i64.mul
        i64.add
        i64.const 31
        i64.rotl
        i64.const 11400714785074694791
        i64.mul
        local.set $v2
        local.get $v3
        local.get $p
        i64.load offset=16
        i64.const 14029467366897019727
        i64.mul
        i64.add
        i64.const 31
        i64.rotl
        i64.const 11400714785074694791
        i64.mul
        local.set $v3
        local.get $v4
        local.get $p
        i64.load offset=24
        i64.const 14029467366897019727
        i64.mul
        i64.add
        i64.const 31
        i64.rotl
        i64.const 11400714785074694791
        i64.mul
        local.set $v4
        local.get $p
        i32.const 32
        i32.add
        local.tee $p
        i32.const 32
        i32.add
        local.get $end
        i32.le_u
        br_if $stripe
      end
      local.get $v1
      i64.const 1
      i64.rotl
      local.get $v2
      i64.const 7
      i64.rotl
      i64.add
      local.get $v3
      i64.const 12
      i64.rotl
      i64.add
      local.get $v4
      i64.const 18
      i64.rotl
      i64.add
      local.set $h
      local.get $h
      local.get $v1
      i64.const 14029467366897019727
      i64.mul
      i64.const 31
      i64.rotl
      i64.const 11400714785074694791
      i64.mul
      i64.xor
      i64.const 11400714785074694791
      i64.mul
      i64.const 9650029242287828579
      i64.add
      local.set $h
      local.get $h
      local.get $v2
      i64.const 14029467366897019727
      i64.mul
      i64.const 31
      i64.rotl
      i64.const 11400714785074694791
      i64.mul
      i64.xor
      i64.const 11400714785074694791
      i64.mul
      i64.const 9650029242287828579
      i64.add
      local.set $h
      local.get $h
      local.get $v3
      i64.const 14029467366897019727
      i64.mul
      i64.const 31
      i64.rotl
      i64.const 11400714785074694791
      i64.mul
      i64.xor
      i64.const 11400714785074694791
      i64.mul
      i64.const 9650029242287828579
      i64.add
      local.set $h
      local.get $h
      local.get $v4
      i64.const 14029467366897019727
      i64.mul
      i64.const 31
      i64.rotl
      i64.const 11400714785074694791
      i64.mul
      i64.xor
      i64.const 11400714785074694791
      i64.mul
      i64.const 9650029242287828579
      i64.add
      local.set $h
    else
      i64.const 2870177450012600261
      local.set $h
    end
    local.get $h
    local.get $len
    i64.extend_i32_u
    i64.add
    local.set $h
    ;; 8 bytes at a time: h = rotl(h ^ rotl(w * P2, 31) * P1, 27) * P1 + P4
    block $words
      loop $word
        local.get $p
        i32.const 8
        i32.add
        local.get $end
        i32.gt_u
        br_if $words
        local.get $h
        local.get $p
        i64.load
        i64.const 14029467366897019727
        i64.mul
        i64.const 31
        i64.rotl
        i64.const 11400714785074694791
        i64.mul
        i64.xor
        i64.const 27
        i64.rotl
        i64.const 11400714785074694791
        i64.mul
        i64.const 9650029242287828579
        i64.add
        local.set $h
        local.get $p
        i32.const 8
        i32.add
        local.set $p
        br $word
      end
    end
    ;; then 4: h = rotl(h ^ w32 * P1, 23) * P2 + P3
    local.get $p
    i32.const 4
    i32.add
    local.get $end
    i32.le_u
    if
      local.get $h
      local.get $p
      i64.load32_u
      i64.const 11400714785074694791
      i64.mul
      i64.xor
      i64.const 23
      i64.rotl
      i64.const 14029467366897019727
      i64.mul
      i64.const 1609587929392839161
      i64.add
      local.set $h
      local.get $p
      i32.const 4
      i32.add
      local.set $p
    end
    ;; then bytes: h = rotl(h ^ b * P5, 11) * P1
    block $bytes
      loop $byte
        local.get $p
        local.get $end
        i32.ge_u
        br_if $bytes
        local.get $h
        local.get $p
        i64.load8_u
        i64.const 2870177450012600261
        i64.mul
        i64.xor
        i64.const 11
        i64.rotl
        i64.const 11400714785074694791
        i64.mul
        local.set $h
        local.get $p
        i32.const 1
        i32.add
        local.set $p
        br $byte
      end
    end
    ;; avalanche
    local.get $h
    local.get $h
    i64.const 33
    i64.shr_u
    i64.xor
    i64.const 14029467366897019727
    i64.mul
    local.tee $h
    local.get $h
    i64.const 29
    i64.shr_u
    i64.xor
    i64.const 1609587929392839161
    i64.mul
    local.tee $h
    local.get $h
    i64.const 32
    i64.shr_u
    i64.xor
  )
)
