;; loop.wat: an Extism plugin whose "run" loops forever; TestExtismDeadline
;; checks the SDK stops it at Manifest.Timeout (context-done closing on).
;;
;; Rebuild: wat2wasm loop.wat -o loop.wasm
(module
  (memory (export "memory") 1)
  (func (export "run") (result i32)
    (loop $forever (br $forever))
    (i32.const 0)))
