package httpapi

import (
	"net"
	"net/http"
	"net/url"
	"path"
	"strings"
)

// originPolicy decides which browser origins may open WebSockets. Requests
// without an Origin header (non-browser clients) are allowed; browsers
// always send one, which is what cross-site WebSocket hijacking abuses.
type originPolicy struct {
	allowAll bool
	patterns []string // lower case; full origins ("https://app.example.com") or host patterns ("*.example.com")
}

func newOriginPolicy(allowed []string) originPolicy {
	var p originPolicy
	for _, a := range allowed {
		a = strings.ToLower(strings.TrimSpace(a))
		switch a {
		case "":
		case "*":
			p.allowAll = true
		default:
			p.patterns = append(p.patterns, strings.TrimRight(a, "/"))
		}
	}
	return p
}

// allows reports whether r's Origin may connect: same origin as the
// request, a loopback origin (laptop development), or one of the patterns.
func (p originPolicy) allows(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" || p.allowAll {
		return true
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return false
	}
	host := strings.ToLower(u.Host)
	if host == strings.ToLower(r.Host) {
		return true
	}
	if isLoopback(u.Hostname()) {
		return true
	}
	full := strings.ToLower(u.Scheme) + "://" + host
	for _, pat := range p.patterns {
		if strings.Contains(pat, "://") {
			if ok, _ := path.Match(pat, full); ok {
				return true
			}
			continue
		}
		if ok, _ := path.Match(pat, host); ok {
			return true
		}
		if ok, _ := path.Match(pat, strings.ToLower(u.Hostname())); ok {
			return true
		}
	}
	return false
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") || strings.HasSuffix(strings.ToLower(host), ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
