package runtime_test

import (
	"fmt"
	"time"

	hookrt "github.com/hookrt/hookd/runtime"
)

func ExampleParseConfig() {
	cfg, err := hookrt.ParseConfig([]byte(`
[store]
path = "hookd.db"

[delivery]
timeout = 30                    # seconds
retry_schedule = ["1s", "1m", "1h30m"]
`), "/etc/hookd")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(cfg.Server.Listen, cfg.ListenIsLoopback())
	fmt.Println(cfg.Store.Path)
	fmt.Println(time.Duration(cfg.Delivery.Timeout), cfg.Delivery.RetrySchedule, cfg.Delivery.Workers)
	// Output:
	// 127.0.0.1:7700 true
	// /etc/hookd/hookd.db
	// 30s [1s 1m 1h30m] 500
}

func ExampleParseConfig_errors() {
	_, err := hookrt.ParseConfig([]byte(`
[server]
listen = "0.0.0.0:7700"

[delivery]
jitter = 1.5
timeuot = "10s"
`), ".")
	fmt.Println(err)

	_, err = hookrt.ParseConfig([]byte(`
[server]
listen = "0.0.0.0:7700"

[delivery]
jitter = 1.5
`), ".")
	fmt.Println(err)
	// Output:
	// config.toml: server.token_file: required when server.listen is not a loopback address (0.0.0.0:7700); the HTTP API needs a bearer token
	// config.toml: delivery.jitter: must be at least 0 and less than 1, got 1.5
	// config.toml: unknown key "delivery.timeuot"; allowed in [delivery]: retry_schedule, jitter, timeout, max_age, workers, retry_after_cap, breaker_threshold, breaker_cooldown, poll_interval, disable_after, proxy
	// config.toml: server.token_file: required when server.listen is not a loopback address (0.0.0.0:7700); the HTTP API needs a bearer token
	// config.toml: delivery.jitter: must be at least 0 and less than 1, got 1.5
}
