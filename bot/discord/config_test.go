package discord

import (
	"strings"
	"testing"
	"time"
)

func TestConfigValidate(t *testing.T) {
	good := Config{BotToken: "secret-token-value", ApplicationID: testAppID, PublicKey: strings.Repeat("ab", 32)}
	if err := good.Validate(); err != nil {
		t.Fatalf("good config: %v", err)
	}
	tests := []struct {
		name string
		edit func(*Config)
		key  string
	}{
		{"no token", func(c *Config) { c.BotToken = "" }, "discord.bot_token"},
		{"Bot prefix", func(c *Config) { c.BotToken = "Bot secret-token-value" }, "discord.bot_token"},
		{"token with space", func(c *Config) { c.BotToken = "secret-token-value\n" }, "discord.bot_token"},
		{"no application", func(c *Config) { c.ApplicationID = "" }, "discord.application_id"},
		{"application not numeric", func(c *Config) { c.ApplicationID = "my-app" }, "discord.application_id"},
		{"no key", func(c *Config) { c.PublicKey = "" }, "discord.public_key"},
		{"key not hex", func(c *Config) { c.PublicKey = strings.Repeat("zz", 32) }, "discord.public_key"},
		{"key too short", func(c *Config) { c.PublicKey = "abcd" }, "discord.public_key"},
		{"guild", func(c *Config) { c.GuildID = "guild" }, "discord.guild_id"},
		{"api url", func(c *Config) { c.APIURL = "ftp://x" }, "discord.api_url"},
		{"body", func(c *Config) { c.MaxBodyBytes = 10 }, "discord.max_body_bytes"},
		{"budget", func(c *Config) { c.AckBudget = 3 * time.Second }, "discord.ack_budget"},
		{"window", func(c *Config) { c.TimestampWindow = 2 * time.Hour }, "discord.timestamp_window"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := good
			tc.edit(&c)
			err := c.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.key) {
				t.Fatalf("err = %v, want one naming %s", err, tc.key)
			}
			if strings.Contains(err.Error(), "secret-token-value") {
				t.Errorf("the error shows the token: %v", err)
			}
		})
	}
	if _, err := New(good, nil, nil); err == nil {
		t.Error("New without a router succeeded")
	}
}
