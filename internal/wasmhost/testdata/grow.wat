;; grow.wat: declares a maximum of 1000 pages (62.5 MiB), over the default
;; memory_pages of 256, and grows its memory one 64 KiB page at a time until
;; memory.grow fails; then returns the number of pages it reached as its
;; status (a guest allocator growing to its limit, which does not trap).
;; Expected outcome: loads (the declared maximum is lowered to memory_pages,
;; not refused); the first call of an instance returns memory_pages (256 by
;; default), later ones at once.
;; Rebuild: wat2wasm grow.wat -o grow.wasm
(module
  (memory (export "memory") 1 1000)
  (func (export "hookd_v1_on_event") (result i32)
    (loop $grow
      (br_if $grow (i32.ne (memory.grow (i32.const 1)) (i32.const -1))))
    (memory.size)))
