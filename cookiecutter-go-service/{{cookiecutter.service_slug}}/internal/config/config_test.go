package config

import (
	"log/slog"
	"testing"
	"time"
)

func env(values map[string]string) func(string) string {
	return func(key string) string { return values[key] }
}

func TestDefaults(t *testing.T) {
	cfg, err := FromEnv(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Port != DefaultPort || cfg.LogLevel != slog.LevelInfo || cfg.ShutdownTimeout != 25*time.Second {
		t.Fatalf("unexpected defaults: %+v", cfg)
	}
	if cfg.Addr() != ":{{ cookiecutter.port }}" {
		t.Fatalf("Addr() = %q", cfg.Addr())
	}
}

func TestFromEnv(t *testing.T) {
	cfg, err := FromEnv(env(map[string]string{"HOST": "127.0.0.1", "PORT": "9090", "LOG_LEVEL": "DEBUG",
		"SHUTDOWN_TIMEOUT": "5s", "SHUTDOWN_DELAY": "1s"}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Addr() != "127.0.0.1:9090" || cfg.LogLevel != slog.LevelDebug || cfg.ShutdownTimeout != 5*time.Second ||
		cfg.ShutdownDelay != time.Second {
		t.Fatalf("unexpected config: %+v", cfg)
	}
}

func TestInvalid(t *testing.T) {
	for _, values := range []map[string]string{
		{"PORT": "http"}, {"PORT": "70000"}, {"LOG_LEVEL": "loud"}, {"SHUTDOWN_TIMEOUT": "soon"},
		{"SHUTDOWN_DELAY": "-1s"},
	} {
		if _, err := FromEnv(env(values)); err == nil {
			t.Errorf("FromEnv(%v): want an error", values)
		}
	}
}
