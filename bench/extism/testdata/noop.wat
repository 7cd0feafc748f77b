;; noop.wat: a hand-written Extism plugin, the Extism side's counterpart of
;; hookd's internal/wasmhost/testdata/ok.wat. Its export "run" reads the
;; input's length and sets the output to "<nomessage/>" through the Extism
;; kernel, as a PDK guest does: alloc a block in the kernel's memory, copy
;; the bytes in with store_u64 (8-byte words, as the Rust PDK does) and
;; store_u8 (the tail), then output_set. It returns 0 (success).
;;
;; Imports are from the kernel namespace "extism:host/env", with the types
;; of github.com/extism/go-sdk v1.7.1 host.go (instantiateEnvModule).
;;
;; Rebuild: wat2wasm noop.wat -o noop.wasm
(module
  (import "extism:host/env" "input_length" (func $input_length (result i64)))
  (import "extism:host/env" "alloc" (func $alloc (param i64) (result i64)))
  (import "extism:host/env" "store_u64" (func $store_u64 (param i64 i64)))
  (import "extism:host/env" "store_u8" (func $store_u8 (param i64 i32)))
  (import "extism:host/env" "output_set" (func $output_set (param i64 i64)))
  (memory (export "memory") 1)
  (data (i32.const 0) "<nomessage/>")
  (global $seen (mut i64) (i64.const 0))
  (func (export "run") (result i32)
    (local $out i64)
    ;; Read the input's length (kept, so the call is not optimised away).
    (global.set $seen (call $input_length))
    (local.set $out (call $alloc (i64.const 12)))
    (if (i64.eqz (local.get $out)) (then (return (i32.const 1))))
    ;; bytes 0..7 as one little-endian word, then 8..11 one by one.
    (call $store_u64 (local.get $out) (i64.load (i32.const 0)))
    (call $store_u8 (i64.add (local.get $out) (i64.const 8)) (i32.load8_u (i32.const 8)))
    (call $store_u8 (i64.add (local.get $out) (i64.const 9)) (i32.load8_u (i32.const 9)))
    (call $store_u8 (i64.add (local.get $out) (i64.const 10)) (i32.load8_u (i32.const 10)))
    (call $store_u8 (i64.add (local.get $out) (i64.const 11)) (i32.load8_u (i32.const 11)))
    (call $output_set (local.get $out) (i64.const 12))
    (i32.const 0)))
