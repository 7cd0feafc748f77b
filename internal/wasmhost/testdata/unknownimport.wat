;; unknownimport.wat: imports a function hookd_v1 does not have.
;; Expected outcome: refused at load: "it imports hookd_v1.launch_missiles,
;; which ABI hookd_v1 does not have".
;; Rebuild: wat2wasm unknownimport.wat -o unknownimport.wasm
(module
  (import "hookd_v1" "launch_missiles" (func $launch (param i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "hookd_v1_on_event") (result i32)
    (call $launch (i32.const 1))))
