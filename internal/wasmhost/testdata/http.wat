;; http.wat: passes its config, a request object such as
;; {"url":"http://127.0.0.1:8080/x"}, to http_request and replies with the
;; response's HTTP status ("200"), or with "E" and the error's digit ("E5"
;; for ERR_DENIED, "E7" for ERR_TIMEOUT).
;; Expected outcome: status 0 and that reply.
;; Rebuild: wat2wasm http.wat -o http.wasm
(module
  (import "hookd_v1" "config_read" (func $config_read (param i32 i32) (result i32)))
  (import "hookd_v1" "http_request" (func $http_request (param i32 i32) (result i32)))
  (import "hookd_v1" "result_read" (func $result_read (param i32 i32) (result i32)))
  (import "hookd_v1" "reply_set" (func $reply_set (param i32 i32) (result i32)))
  (memory (export "memory") 20)
  ;; 0: the config (4 KiB), 4096: the reply, 65536: the response (1216 KiB)
  (func $error (param $status i32) (result i32)
    (i32.store8 (i32.const 4096) (i32.const 69)) ;; 'E'
    (i32.store8 (i32.const 4097) (i32.sub (i32.const 48) (local.get $status)))
    (drop (call $reply_set (i32.const 4096) (i32.const 2)))
    (i32.const 0))

  (func (export "hookd_v1_on_event") (result i32)
    (local $n i32)
    (local.set $n (call $config_read (i32.const 0) (i32.const 4096)))
    (if (i32.gt_s (local.get $n) (i32.const 4096)) (then (return (i32.const 2))))
    (local.set $n (call $http_request (i32.const 0) (local.get $n)))
    (if (i32.lt_s (local.get $n) (i32.const 0))
      (then (return (call $error (local.get $n)))))
    (if (i32.ne (call $result_read (i32.const 65536) (i32.const 1245184)) (local.get $n))
      (then (return (i32.const 2))))
    ;; the response starts {"status":NNN
    (drop (call $reply_set (i32.const 65546) (i32.const 3)))
    (i32.const 0)))
