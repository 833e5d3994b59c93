package main

import (
	"context"
	"fmt"
	"net/http"
	"time"
)

// runHealthcheck GETs a URL and fails unless it answers 200: the container
// health check, where the image has no curl.
func runHealthcheck(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet("healthcheck", env)
	if err := parse(fs, nil, args); err != nil {
		return err
	}
	url := "http://127.0.0.1:8080/readyz"
	if fs.NArg() > 0 {
		url = fs.Arg(0)
	}
	ctx, cancel := context.WithTimeout(ctx, 4*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return usageError{err}
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("%s answered %s", url, res.Status)
	}
	return nil
}
