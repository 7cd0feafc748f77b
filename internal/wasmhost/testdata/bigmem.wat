;; bigmem.wat: declares 300 pages (18.75 MiB) of memory up front, more than
;; the default limit of 256 pages; otherwise it is ok.wat.
;; Expected outcome: refused at load under the default memory_pages ("min
;; 300 pages (18 Mi) over limit of 256 pages"); loads with memory_pages >= 300.
;; Rebuild: wat2wasm bigmem.wat -o bigmem.wasm
(module
  (import "hookd_v1" "reply_set" (func $reply_set (param i32 i32) (result i32)))
  (memory (export "memory") 300)
  (data (i32.const 0) "<nomessage/>")
  (func (export "hookd_v1_on_event") (result i32)
    (drop (call $reply_set (i32.const 0) (i32.const 12)))
    (i32.const 0)))
