;; membomb.wat: grows its memory one 64 KiB page at a time until
;; memory.grow fails (at the plugin's memory limit), then traps, as a guest
;; allocator does.
;; Expected outcome: error "plugin trapped near its memory limit (256 of 256
;; pages in use) …"; the instance is discarded.
;; Rebuild: wat2wasm membomb.wat -o membomb.wasm
(module
  (memory (export "memory") 1)
  (func (export "hookd_v1_on_event") (result i32)
    (loop $grow
      (br_if $grow (i32.ne (memory.grow (i32.const 1)) (i32.const -1))))
    unreachable))
