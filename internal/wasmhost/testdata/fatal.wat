;; fatal.wat: fails for good: status 2.
;; Expected outcome: no error, status 2, error "" (no error_set); the
;; instance is kept.
;; Rebuild: wat2wasm fatal.wat -o fatal.wasm
(module
  (memory (export "memory") 1)
  (func (export "hookd_v1_on_event") (result i32)
    (i32.const 2)))
