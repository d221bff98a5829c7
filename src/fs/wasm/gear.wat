;; Gear-hash cut-point search for the FastCDC chunker (src/fs/chunker.ts).
;; Built by src/fs/wasm/assemble.ts into gear.wasm (no external tools needed).
;;
;; Memory layout (set up by src/fs/wasm/gear.ts):
;;   [0, 1024)      the gear table: 256 little-endian i32
;;   [1024, ...)    the bytes to scan; positions below are relative to 1024: the scan
;;                  window, then read buffers the hasher fills in place (gear.ts)
;; The memory is shared (a SharedArrayBuffer) so the hash worker can read those buffers.
;;
;; scan(p, end, mask): roll h = (h << 1) + G[byte] over bytes p..end-1 and return the
;; position just past the first byte after which (h & mask) == 0, or -1 if there is none.
;; The hash lives in the exported global "h" so a scan can resume in the next buffer.
;; The main loop is unrolled eight times: per byte the work is a load, a table load, a
;; shift-add and a test, so the loop counter and bounds check were a large share
;; (unrolled 2x: ~1.5 GB/s, 8x: ~2.1 GB/s; bench/notes/chunking.md).
(module
  (memory (export "memory") 260 260 shared)
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
)
