package handlers

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// registerPages serves the dashboard. Placeholder until the templ
// dashboard lands: lists the latest event of each topic as text.
func registerPages(r *gin.Engine, cfg Config) error {
	r.GET("/", func(c *gin.Context) {
		c.Header("Content-Type", "text/plain; charset=utf-8")
		c.Status(http.StatusOK)
		for _, e := range cfg.Events.Latest() {
			c.Writer.WriteString(e.Topic + " " + string(e.Data) + "\n")
		}
	})
	return nil
}
