// Package metrics counts HTTP requests and exposes them in the Prometheus text format.
package metrics

import (
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

type key struct {
	method, route string
	code          int
}

type observation struct {
	count uint64
	sum   float64
}

// Registry holds the service's metrics; it is safe for concurrent use.
type Registry struct {
	mu        sync.Mutex
	requests  map[key]*observation
	started   time.Time
	buildInfo map[string]string
}

// New returns an empty registry; buildInfo becomes the labels of the build_info gauge.
func New(buildInfo map[string]string) *Registry {
	return &Registry{requests: map[key]*observation{}, started: time.Now(), buildInfo: buildInfo}
}

// Observe records one request.
func (r *Registry) Observe(method, route string, code int, elapsed time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	k := key{method, route, code}
	o := r.requests[k]
	if o == nil {
		o = &observation{}
		r.requests[k] = o
	}
	o.count++
	o.sum += elapsed.Seconds()
}

// ServeHTTP writes the metrics in the Prometheus text exposition format.
func (r *Registry) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	r.Write(w)
}

// Write writes the metrics in the Prometheus text exposition format, in a stable order.
func (r *Registry) Write(w io.Writer) {
	r.mu.Lock()
	keys := make([]key, 0, len(r.requests))
	for k := range r.requests {
		keys = append(keys, k)
	}
	snapshot := make(map[key]observation, len(keys))
	for _, k := range keys {
		snapshot[k] = *r.requests[k]
	}
	r.mu.Unlock()
	sort.Slice(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		if a.route != b.route {
			return a.route < b.route
		}
		if a.method != b.method {
			return a.method < b.method
		}
		return a.code < b.code
	})

	fmt.Fprintln(w, "# HELP http_requests_total HTTP requests served, by method, route and status code.")
	fmt.Fprintln(w, "# TYPE http_requests_total counter")
	for _, k := range keys {
		fmt.Fprintf(w, "http_requests_total{%s} %d\n", labels(k), snapshot[k].count)
	}
	fmt.Fprintln(w, "# HELP http_request_duration_seconds Time spent serving HTTP requests.")
	fmt.Fprintln(w, "# TYPE http_request_duration_seconds summary")
	for _, k := range keys {
		fmt.Fprintf(w, "http_request_duration_seconds_sum{%s} %s\n", labels(k),
			strconv.FormatFloat(snapshot[k].sum, 'g', -1, 64))
		fmt.Fprintf(w, "http_request_duration_seconds_count{%s} %d\n", labels(k), snapshot[k].count)
	}
	fmt.Fprintln(w, "# HELP process_start_time_seconds Start time of the process since the Unix epoch.")
	fmt.Fprintln(w, "# TYPE process_start_time_seconds gauge")
	fmt.Fprintf(w, "process_start_time_seconds %d\n", r.started.Unix())
	fmt.Fprintln(w, "# HELP build_info Build information of the service; the value is always 1.")
	fmt.Fprintln(w, "# TYPE build_info gauge")
	names := make([]string, 0, len(r.buildInfo))
	for name := range r.buildInfo {
		names = append(names, name)
	}
	sort.Strings(names)
	pairs := make([]string, 0, len(names))
	for _, name := range names {
		pairs = append(pairs, fmt.Sprintf("%s=%q", name, r.buildInfo[name]))
	}
	fmt.Fprintf(w, "build_info{%s} 1\n", strings.Join(pairs, ","))
}

func labels(k key) string {
	return fmt.Sprintf("code=%q,method=%q,route=%q", strconv.Itoa(k.code), k.method, k.route)
}
