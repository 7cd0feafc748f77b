;; manyhttp.wat: calls http_request 10 times with its config (a request
;; object) and replies with one character per call: "O" for a response,
;; otherwise the error's digit ("6" for ERR_LIMIT).
;; Expected outcome with the default 4 requests per call: "OOOO666666".
;; Rebuild: wat2wasm manyhttp.wat -o manyhttp.wasm
(module
  (import "hookd_v1" "config_read" (func $config_read (param i32 i32) (result i32)))
  (import "hookd_v1" "http_request" (func $http_request (param i32 i32) (result i32)))
  (import "hookd_v1" "reply_set" (func $reply_set (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  ;; 0: the config (4 KiB), 4096: the reply
  (func (export "hookd_v1_on_event") (result i32)
    (local $n i32)
    (local $i i32)
    (local $st i32)
    (local.set $n (call $config_read (i32.const 0) (i32.const 4096)))
    (if (i32.gt_s (local.get $n) (i32.const 4096)) (then (return (i32.const 2))))
    (loop $next
      (local.set $st (call $http_request (i32.const 0) (local.get $n)))
      (i32.store8 (i32.add (i32.const 4096) (local.get $i))
        (select (i32.const 79) (i32.sub (i32.const 48) (local.get $st))
                (i32.ge_s (local.get $st) (i32.const 0))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $next (i32.lt_u (local.get $i) (i32.const 10))))
    (drop (call $reply_set (i32.const 4096) (i32.const 10)))
    (i32.const 0)))
