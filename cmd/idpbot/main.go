// Command idpbot is an internal developer portal that lives in chat.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	// Rotations hand off at local times: embed the zone database so that
	// minimal container images without /usr/share/zoneinfo work too.
	_ "time/tzdata"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
