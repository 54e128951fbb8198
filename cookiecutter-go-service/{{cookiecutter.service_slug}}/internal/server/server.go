// Package server holds the HTTP handlers of the service{% if cookiecutter.framework == "gin" %} (Gin){% else %} (standard library net/http){% endif %}.
package server

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"

	"{{ cookiecutter.module_path }}/internal/metrics"
)

// BuildInfo identifies the running build.
type BuildInfo struct {
	Version string
	Commit  string
}

// Server serves the API, the health endpoints and the metrics.
type Server struct {
	log     *slog.Logger
	build   BuildInfo
	ready   atomic.Bool
	metrics *metrics.Registry
}

// New returns a ready server.
func New(log *slog.Logger, build BuildInfo) *Server {
	s := &Server{log: log, build: build,
		metrics: metrics.New(map[string]string{"version": build.Version, "commit": build.Commit})}
	s.ready.Store(true)
	return s
}

// SetReady switches the readiness endpoint (false as soon as shutdown starts).
func (s *Server) SetReady(ready bool) { s.ready.Store(ready) }

// sleep waits for d, or until the request is cancelled.
func sleep(ctx context.Context, d time.Duration) error {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
