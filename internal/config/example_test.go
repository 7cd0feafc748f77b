package config_test

import (
	"fmt"
	"time"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/config"
)

func ExampleParse() {
	cfg, err := config.Parse("/etc/hookd/config.toml", []byte(`
[store]
path = "hookd.db"

[delivery]
timeout = 30                    # seconds
retry_schedule = ["1s", "1m", "1h30m"]
`), hook.NewRegistry())
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

func ExampleParse_errors() {
	_, err := config.Parse("config.toml", []byte(`
[server]
listen = "0.0.0.0:7700"

[delivery]
jitter = 1.5
timeuot = "10s"
`), hook.NewRegistry())
	fmt.Println(err)

	_, err = config.Parse("config.toml", []byte(`
[server]
listen = "0.0.0.0:7700"

[delivery]
jitter = 1.5
`), hook.NewRegistry())
	fmt.Println(err)
	// Output:
	// config.toml: unknown key "delivery.timeuot"; allowed in [delivery]: retry_schedule, jitter, timeout, max_age, workers, retry_after_cap, breaker_threshold, breaker_cooldown, poll_interval
	// config.toml: server.token_file: required when server.listen is not a loopback address (0.0.0.0:7700); the HTTP API needs a bearer token
	// config.toml: delivery.jitter: must be at least 0 and less than 1, got 1.5
}
