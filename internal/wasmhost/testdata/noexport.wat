;; noexport.wat: has a handler but does not export hookd_v1_on_event.
;; Expected outcome: refused at load: "it does not export hookd_v1_on_event".
;; Rebuild: wat2wasm noexport.wat -o noexport.wasm
(module
  (memory (export "memory") 1)
  (func (export "on_event") (result i32)
    (i32.const 0)))
