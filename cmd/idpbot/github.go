package main

import (
	"context"

	"github.com/idpbot/idpbot/integrations/check"
)

// checkGitHub runs the GitHub integration's checks when it is configured.
func (a *app) checkGitHub(ctx context.Context) ([]check.Result, error) { return nil, nil }
