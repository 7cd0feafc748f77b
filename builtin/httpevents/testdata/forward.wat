;; forward.wat: a plugin that answers an XMLMSG document of commands hookd
;; does not know (a session transfer, a database query):
;;   <module secret="s"><islLight><session id="s9"><transfer to="desk-2"/></session></islLight><queryDatabase/></module>
;; Expected outcome: status 0; the document forwarded whole to the command sink.
;; Rebuild: wat2wasm forward.wat -o forward.wasm
(module
  (import "hookd_v1" "reply_set" (func $reply_set (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "<module secret=\22s\22><islLight><session id=\22s9\22><transfer to=\22desk-2\22/></session></islLight><queryDatabase/></module>")
  (func (export "hookd_v1_on_event") (result i32)
    (drop (call $reply_set (i32.const 0) (i32.const 115)))
    (i32.const 0)))
