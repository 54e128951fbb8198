package metrics

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestExposition(t *testing.T) {
	r := New(map[string]string{"version": "1.0.0", "commit": "abc"})
	r.Observe("GET", "/b", 200, 2*time.Second)
	r.Observe("GET", "/a", 500, time.Second)
	r.Observe("GET", "/b", 200, time.Second)

	rec := httptest.NewRecorder()
	r.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body := rec.Body.String()
	for _, want := range []string{
		`http_requests_total{code="200",method="GET",route="/b"} 2`,
		`http_requests_total{code="500",method="GET",route="/a"} 1`,
		`http_request_duration_seconds_sum{code="200",method="GET",route="/b"} 3`,
		`build_info{commit="abc",version="1.0.0"} 1`,
		"# TYPE http_requests_total counter",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("missing %q in\n%s", want, body)
		}
	}
	if strings.Index(body, `route="/a"`) > strings.Index(body, `route="/b"`) {
		t.Error("series are not sorted")
	}
	if got := rec.Header().Get("Content-Type"); !strings.HasPrefix(got, "text/plain; version=0.0.4") {
		t.Errorf("Content-Type = %q", got)
	}
}
