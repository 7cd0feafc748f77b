;; loop.wat: loops forever.
;; Expected outcome: error "plugin exceeded its 250ms deadline …", a few ms
;; after the deadline; the instance is discarded.
;; Rebuild: wat2wasm loop.wat -o loop.wasm
(module
  (memory (export "memory") 1)
  (func (export "hookd_v1_on_event") (result i32)
    (loop $forever (br $forever))
    (i32.const 0)))
