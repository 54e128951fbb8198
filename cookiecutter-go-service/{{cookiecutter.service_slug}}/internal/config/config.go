// Package config reads the service's configuration from environment variables.
//
// The Helm chart in charts/{{ cookiecutter.service_slug }} sets them: PORT from containerPort,
// SHUTDOWN_DELAY from shutdownDelaySeconds, SHUTDOWN_TIMEOUT from terminationGracePeriodSeconds
// (minus the delay and 5 s, so draining ends before Kubernetes kills the pod), LOG_LEVEL and the
// other keys of `config` through a ConfigMap, and secrets through a Secret.
package config

import (
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"
)

// Defaults used when a variable is not set; they match the chart's defaults.
const (
	DefaultPort            = {{ cookiecutter.port }}
	DefaultShutdownTimeout = 25 * time.Second
)

// Config is the service configuration.
type Config struct {
	// Host is the address to listen on (HOST); empty means all interfaces.
	Host string
	// Port is the port to listen on (PORT).
	Port int
	// LogLevel is debug, info, warn or error (LOG_LEVEL).
	LogLevel slog.Level
	// ShutdownTimeout bounds how long in-flight requests may take after SIGTERM (SHUTDOWN_TIMEOUT).
	ShutdownTimeout time.Duration
	// ShutdownDelay keeps serving, unready, before draining (SHUTDOWN_DELAY), so that endpoints
	// are updated before connections are refused.
	ShutdownDelay time.Duration
}

// FromEnv builds the configuration from getenv (os.Getenv in production).
func FromEnv(getenv func(string) string) (Config, error) {
	cfg := Config{Host: getenv("HOST"), Port: DefaultPort, LogLevel: slog.LevelInfo,
		ShutdownTimeout: DefaultShutdownTimeout}
	if v := getenv("PORT"); v != "" {
		port, err := strconv.Atoi(v)
		if err != nil || port < 1 || port > 65535 {
			return Config{}, fmt.Errorf("PORT=%q: want a number from 1 to 65535", v)
		}
		cfg.Port = port
	}
	if v := getenv("LOG_LEVEL"); v != "" {
		if err := cfg.LogLevel.UnmarshalText([]byte(strings.ToLower(v))); err != nil {
			return Config{}, fmt.Errorf("LOG_LEVEL=%q: want debug, info, warn or error", v)
		}
	}
	var err error
	if cfg.ShutdownTimeout, err = duration(getenv, "SHUTDOWN_TIMEOUT", cfg.ShutdownTimeout); err != nil {
		return Config{}, err
	}
	if cfg.ShutdownDelay, err = duration(getenv, "SHUTDOWN_DELAY", 0); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

// Addr is the listen address, host:port.
func (c Config) Addr() string {
	return fmt.Sprintf("%s:%d", c.Host, c.Port)
}

func duration(getenv func(string) string, name string, fallback time.Duration) (time.Duration, error) {
	v := getenv(name)
	if v == "" {
		return fallback, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("%s=%q: want a duration such as 25s", name, v)
	}
	return d, nil
}
