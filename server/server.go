// Package server is Passerelle's HTTP side: a gin router with thin handlers
// over the engine, health and readiness probes, and Prometheus metrics.
package server

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Check is one readiness dependency: it returns nil when the dependency
// answers.
type Check func(ctx context.Context) error

// Options configure a Server.
type Options struct {
	Addr     string
	Logger   *slog.Logger
	Registry *prometheus.Registry // metrics are registered here and served at /metrics
	Checks   map[string]Check     // readiness: every one must pass for /readyz to answer 200
	Web      *Web                 // the member-facing site and API; nil serves only the probes
}

// Server serves Passerelle's HTTP routes.
type Server struct {
	opt    Options
	log    *slog.Logger
	router *gin.Engine
	http   *http.Server

	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
}

// New builds the router. Nothing listens until Serve.
func New(opt Options) (*Server, error) {
	gin.SetMode(gin.ReleaseMode)
	s := &Server{
		opt: opt,
		log: opt.Logger.With("component", "server"),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "passerelle_http_requests_total",
			Help: "HTTP requests by route and status.",
		}, []string{"route", "method", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "passerelle_http_request_seconds",
			Help:    "HTTP request latency by route.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 14),
		}, []string{"route", "method"}),
	}
	opt.Registry.MustRegister(s.requests, s.latency)

	r := gin.New()
	r.Use(s.recovery, s.observe)
	r.GET("/healthz", s.healthz)
	r.GET("/readyz", s.readyz)
	r.GET("/metrics", localOnly, gin.WrapH(promhttp.HandlerFor(opt.Registry, promhttp.HandlerOpts{Registry: opt.Registry})))
	if opt.Web != nil {
		if opt.Web.Log == nil {
			opt.Web.Log = s.log
		}
		if err := opt.Web.Mount(r); err != nil {
			return nil, err
		}
	}
	s.router = r
	s.http = &http.Server{
		Addr:              opt.Addr,
		Handler:           r,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
	}
	return s, nil
}

// Routes lists the routes, for the test that holds the OpenAPI document
// to them.
func (s *Server) Routes() gin.RoutesInfo { return s.router.Routes() }

// Handler returns the router, for tests that use httptest.
func (s *Server) Handler() http.Handler { return s.router }

// Serve accepts connections on ln until Shutdown.
func (s *Server) Serve(ln net.Listener) error {
	s.log.Info("listening", "addr", ln.Addr().String())
	if err := s.http.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// Shutdown stops accepting and waits for requests in flight, until ctx ends.
func (s *Server) Shutdown(ctx context.Context) error { return s.http.Shutdown(ctx) }

// healthz answers while the process is alive, whatever its dependencies.
func (s *Server) healthz(c *gin.Context) {
	c.JSON(http.StatusOK, gin.H{"status": "ok"})
}

// readyz answers 200 only when every dependency answers, each within 2 s.
func (s *Server) readyz(c *gin.Context) {
	ctx, cancel := context.WithTimeout(c.Request.Context(), 2*time.Second)
	defer cancel()
	status, checks := http.StatusOK, gin.H{}
	for name, check := range s.opt.Checks {
		if err := check(ctx); err != nil {
			status = http.StatusServiceUnavailable
			checks[name] = "unavailable"
			s.log.Warn("not ready", "check", name, "err", err)
			continue
		}
		checks[name] = "ok"
	}
	c.JSON(status, gin.H{"ready": status == http.StatusOK, "checks": checks})
}

func (s *Server) observe(c *gin.Context) {
	start := time.Now()
	c.Next()
	route := c.FullPath()
	if route == "" {
		route = "unmatched"
	}
	s.requests.WithLabelValues(route, c.Request.Method, strconv.Itoa(c.Writer.Status())).Inc()
	s.latency.WithLabelValues(route, c.Request.Method).Observe(time.Since(start).Seconds())
}

func (s *Server) recovery(c *gin.Context) {
	defer func() {
		if r := recover(); r != nil {
			s.log.Error("panic in handler", "route", c.FullPath(), "panic", r)
			c.AbortWithStatusJSON(http.StatusInternalServerError, gin.H{"error": "internal error"})
		}
	}()
	c.Next()
}

// localOnly keeps a route to the machine itself (Prometheus scraping over
// loopback): others get 403, and so does anything a proxy forwarded, since
// a proxy on this machine makes every visitor look local.
func localOnly(c *gin.Context) {
	host, _, err := net.SplitHostPort(c.Request.RemoteAddr)
	forwarded := c.GetHeader("X-Forwarded-For") != "" || c.GetHeader("Forwarded") != "" || c.GetHeader("X-Real-Ip") != ""
	if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() || forwarded {
		c.AbortWithStatusJSON(http.StatusForbidden, gin.H{"error": "metrics are served to this machine only"})
		return
	}
	c.Next()
}
