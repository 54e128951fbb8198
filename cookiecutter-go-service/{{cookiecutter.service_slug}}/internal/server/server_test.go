package server

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func newTestServer(t *testing.T) (*Server, *httptest.Server) {
	t.Helper()
	s := New(slog.New(slog.NewTextHandler(io.Discard, nil)), BuildInfo{Version: "1.2.3", Commit: "abc"})
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	return s, ts
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(body)
}

func TestHealthAndReadiness(t *testing.T) {
	s, ts := newTestServer(t)
	if code, _ := get(t, ts.URL+"/healthz"); code != http.StatusOK {
		t.Fatalf("/healthz = %d", code)
	}
	if code, _ := get(t, ts.URL+"/readyz"); code != http.StatusOK {
		t.Fatalf("/readyz = %d", code)
	}
	s.SetReady(false)
	if code, _ := get(t, ts.URL+"/readyz"); code != http.StatusServiceUnavailable {
		t.Fatalf("/readyz after SetReady(false) = %d", code)
	}
	if code, _ := get(t, ts.URL+"/healthz"); code != http.StatusOK {
		t.Fatalf("/healthz must stay 200 while shutting down, got %d", code)
	}
}

func TestHello(t *testing.T) {
	_, ts := newTestServer(t)
	code, body := get(t, ts.URL+"/api/v1/hello?name=Gopher")
	if code != http.StatusOK {
		t.Fatalf("status %d", code)
	}
	var answer map[string]string
	if err := json.Unmarshal([]byte(body), &answer); err != nil {
		t.Fatal(err)
	}
	if answer["message"] != "Hello, Gopher!" || answer["version"] != "1.2.3" {
		t.Fatalf("unexpected answer %v", answer)
	}
	if code, _ := get(t, ts.URL+"/api/v1/hello?wait=forever"); code != http.StatusBadRequest {
		t.Fatalf("bad wait: status %d", code)
	}
}

func TestMetricsCountRequests(t *testing.T) {
	_, ts := newTestServer(t)
	get(t, ts.URL+"/api/v1/hello")
	get(t, ts.URL+"/nowhere")
	code, body := get(t, ts.URL+"/metrics")
	if code != http.StatusOK {
		t.Fatalf("/metrics = %d", code)
	}
	for _, want := range []string{
		`http_requests_total{code="200",method="GET",route="/api/v1/hello"} 1`,
		`http_requests_total{code="404",method="GET",route="unmatched"} 1`,
		`build_info{commit="abc",version="1.2.3"} 1`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("missing %q in\n%s", want, body)
		}
	}
}
