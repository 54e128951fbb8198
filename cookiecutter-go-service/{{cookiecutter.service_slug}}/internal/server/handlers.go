{%- if cookiecutter.framework == "gin" -%}
package server

import (
	"fmt"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
)

// Handler routes the requests.
func (s *Server) Handler() http.Handler {
	gin.SetMode(gin.ReleaseMode)
	router := gin.New()
	router.Use(s.observe)
	router.GET("/healthz", s.healthz)
	router.GET("/readyz", s.readyz)
	router.GET("/metrics", gin.WrapH(s.metrics))
	router.GET("/api/v1/hello", s.hello)
	return router
}

// observe logs and counts each request, and turns a panic into a 500 (the only place panics are recovered).
func (s *Server) observe(c *gin.Context) {
	start := time.Now()
	defer func() {
		if recovered := recover(); recovered != nil {
			s.log.Error("panic", "error", fmt.Sprint(recovered), "path", c.Request.URL.Path)
			c.AbortWithStatusJSON(http.StatusInternalServerError, gin.H{"error": "internal error"})
		}
		route := c.FullPath()
		if route == "" {
			route = "unmatched"
		}
		elapsed := time.Since(start)
		s.metrics.Observe(c.Request.Method, route, c.Writer.Status(), elapsed)
		s.log.Debug("request", "method", c.Request.Method, "route", route, "status", c.Writer.Status(),
			"duration", elapsed.String())
	}()
	c.Next()
}

func (s *Server) healthz(c *gin.Context) {
	c.JSON(http.StatusOK, gin.H{"status": "ok"})
}

func (s *Server) readyz(c *gin.Context) {
	if !s.ready.Load() {
		c.JSON(http.StatusServiceUnavailable, gin.H{"status": "shutting down"})
		return
	}
	c.JSON(http.StatusOK, gin.H{"status": "ready"})
}

// hello is the sample API route. ?wait=2s simulates slow work (at most 10s), to try graceful shutdown.
func (s *Server) hello(c *gin.Context) {
	name := c.DefaultQuery("name", "world")
	if wait := c.Query("wait"); wait != "" {
		d, err := time.ParseDuration(wait)
		if err != nil || d < 0 || d > 10*time.Second {
			c.JSON(http.StatusBadRequest, gin.H{"error": "wait must be a duration from 0s to 10s"})
			return
		}
		if err := sleep(c.Request.Context(), d); err != nil {
			return
		}
	}
	c.JSON(http.StatusOK, gin.H{"message": fmt.Sprintf("Hello, %s!", name), "version": s.build.Version})
}
{%- else -%}
package server

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Handler routes the requests.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("GET /readyz", s.readyz)
	mux.Handle("GET /metrics", s.metrics)
	mux.HandleFunc("GET /api/v1/hello", s.hello)
	return s.observe(mux)
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(status int) {
	r.status = status
	r.ResponseWriter.WriteHeader(status)
}

// observe logs and counts each request, and turns a panic into a 500 (the only place panics are recovered).
func (s *Server) observe(next *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		defer func() {
			if recovered := recover(); recovered != nil {
				s.log.Error("panic", "error", fmt.Sprint(recovered), "path", r.URL.Path)
				rec.status = http.StatusInternalServerError
				writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "internal error"})
			}
			_, pattern := next.Handler(r) // "GET /api/v1/hello": the route is the part after the method
			route := pattern[strings.IndexByte(pattern, ' ')+1:]
			if route == "" {
				route = "unmatched"
			}
			elapsed := time.Since(start)
			s.metrics.Observe(r.Method, route, rec.status, elapsed)
			s.log.Debug("request", "method", r.Method, "route", route, "status", rec.status,
				"duration", elapsed.String())
		}()
		next.ServeHTTP(rec, r)
	})
}

func (s *Server) healthz(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) readyz(w http.ResponseWriter, _ *http.Request) {
	if !s.ready.Load() {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "shutting down"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

// hello is the sample API route. ?wait=2s simulates slow work (at most 10s), to try graceful shutdown.
func (s *Server) hello(w http.ResponseWriter, r *http.Request) {
	name := r.URL.Query().Get("name")
	if name == "" {
		name = "world"
	}
	if wait := r.URL.Query().Get("wait"); wait != "" {
		d, err := time.ParseDuration(wait)
		if err != nil || d < 0 || d > 10*time.Second {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "wait must be a duration from 0s to 10s"})
			return
		}
		if err := sleep(r.Context(), d); err != nil {
			return
		}
	}
	writeJSON(w, http.StatusOK, map[string]string{"message": fmt.Sprintf("Hello, %s!", name),
		"version": s.build.Version})
}

func writeJSON(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}
{%- endif %}
