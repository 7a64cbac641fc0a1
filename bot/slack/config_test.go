package slack

import (
	"strings"
	"testing"
	"time"
)

func TestConfigValidate(t *testing.T) {
	ok := Config{BotToken: "xoxb-1-secretpart", SigningSecret: "s3cr3t-signing", AppToken: "xapp-1-secretpart"}
	cases := []struct {
		name string
		edit func(*Config)
		want string // "" for valid
	}{
		{"valid", func(*Config) {}, ""},
		{"socket mode only", func(c *Config) { c.SigningSecret = "" }, ""},
		{"http only", func(c *Config) { c.AppToken = "" }, ""},
		{"no bot token", func(c *Config) { c.BotToken = "" }, "slack.bot_token"},
		{"user token", func(c *Config) { c.BotToken = "xoxp-1-secretpart" }, "slack.bot_token"},
		{"neither secret nor app token", func(c *Config) { c.SigningSecret, c.AppToken = "", "" }, "slack.signing_secret"},
		{"secret with a newline", func(c *Config) { c.SigningSecret = "s3cr3t-signing\n" }, "slack.signing_secret"},
		{"bot token as app token", func(c *Config) { c.AppToken = "xoxb-1-secretpart" }, "slack.app_token"},
		{"api url", func(c *Config) { c.APIURL = "slack.example.com/api" }, "slack.api_url"},
		{"tiny body limit", func(c *Config) { c.MaxBodyBytes = 10 }, "slack.max_body_bytes"},
		{"ack budget too long", func(c *Config) { c.AckBudget = 3 * time.Second }, "slack.ack_budget"},
		{"negative ack budget", func(c *Config) { c.AckBudget = -time.Second }, "slack.ack_budget"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := ok
			tc.edit(&c)
			err := c.Validate()
			if tc.want == "" {
				if err != nil {
					t.Fatalf("Validate = %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want+":") {
				t.Fatalf("Validate = %v, want an error naming %s", err, tc.want)
			}
			for _, secret := range []string{"secretpart", "s3cr3t"} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error carries a secret: %v", err)
				}
			}
		})
	}
}

func TestConfigDefaults(t *testing.T) {
	c := Config{APIURL: "http://127.0.0.1:1/api"}.withDefaults()
	if c.MaxBodyBytes != 64<<10 || c.AckBudget != 2500*time.Millisecond || c.APIURL != "http://127.0.0.1:1/api/" {
		t.Errorf("defaults: %+v", c)
	}
	if _, err := New(Config{BotToken: "xoxb-x"}, nil, nil); err == nil || !strings.Contains(err.Error(), "slack.signing_secret") {
		t.Errorf("New without secret = %v", err)
	}
}
