// Command coredns is CoreDNS v1.12.1 (the version kubeadm v1.34 deploys) with only the plugins the
// cluster's Corefile uses, in CoreDNS's documented way of choosing plugins at compile time: import them
// and set dnsserver.Directives. The full build links every cloud provider's SDK (Route 53, Azure, Cloud
// DNS), which costs build time and size and which a single-node cluster on loopback never uses.
package main

import (
	"github.com/coredns/coredns/core/dnsserver"
	"github.com/coredns/coredns/coremain"

	_ "github.com/coredns/coredns/plugin/cache"
	_ "github.com/coredns/coredns/plugin/errors"
	_ "github.com/coredns/coredns/plugin/forward"
	_ "github.com/coredns/coredns/plugin/health"
	_ "github.com/coredns/coredns/plugin/kubernetes"
	_ "github.com/coredns/coredns/plugin/loadbalance"
	_ "github.com/coredns/coredns/plugin/log"
	_ "github.com/coredns/coredns/plugin/loop"
	_ "github.com/coredns/coredns/plugin/metrics"
	_ "github.com/coredns/coredns/plugin/ready"
	_ "github.com/coredns/coredns/plugin/reload"
)

// directives is the subset of CoreDNS v1.12.1's plugin.cfg we link, in plugin.cfg's order: the order in
// which a query passes through the plugins, whatever order the Corefile lists them in.
var directives = []string{
	"reload",
	"ready",
	"health",
	"prometheus", // package plugin/metrics
	"errors",
	"log",
	"loadbalance",
	"cache",
	"kubernetes",
	"loop",
	"forward",
}

func init() {
	dnsserver.Directives = directives
}

func main() {
	coremain.Run()
}
