package main

import (
	"context"
	"log/slog"
	"strings"
	"sync"

	"github.com/redis/go-redis/v9"

	"github.com/passerelle-social/passerelle/engine"
	"github.com/passerelle-social/passerelle/networks/bluesky"
	"github.com/passerelle-social/passerelle/networks/mastodon"
	"github.com/passerelle-social/passerelle/workers"
)

// digestChannels returns the digest channels of the configured bots. Each
// bot signs in on first use, and again after a failed send (its session
// may have expired).
func (c *Config) digestChannels(bsky *bluesky.Client, masto *mastodon.Client, log *slog.Logger) map[engine.Network]workers.Channel {
	out := map[engine.Network]workers.Channel{}
	if c.NotifyMastodonURL != "" {
		var mu sync.Mutex
		var bot *mastodon.Session
		out[engine.Mastodon] = workers.Channel{Permanent: mastodon.Permanent,
			Send: func(ctx context.Context, to, text string) error {
				mu.Lock()
				defer mu.Unlock()
				if bot == nil {
					s, err := masto.OpenToken(ctx, c.NotifyMastodonURL, c.NotifyMastodonToken)
					if err != nil {
						return err
					}
					bot = s
				}
				_, err := bot.SendDirect(ctx, to, text)
				if err != nil && !mastodon.Permanent(err) {
					bot = nil
				}
				return err
			}}
		log.Info("digests on Mastodon", "bot_instance", c.NotifyMastodonURL)
	}
	if c.NotifyBlueskyHost != "" {
		var mu sync.Mutex
		var bot *bluesky.Chat
		out[engine.Bluesky] = workers.Channel{Permanent: bluesky.PermanentChat,
			Send: func(ctx context.Context, to, text string) error {
				mu.Lock()
				defer mu.Unlock()
				if bot == nil {
					ch, err := bsky.OpenChat(ctx, c.NotifyBlueskyHost, c.NotifyBlueskyHandle, c.NotifyBlueskyPassword, c.NotifyChatURL)
					if err != nil {
						return err
					}
					bot = ch
				}
				_, err := bot.SendDirect(ctx, to, text)
				if err != nil && !bluesky.PermanentChat(err) {
					bot = nil
				}
				return err
			}}
		log.Info("digests on Bluesky", "bot", c.NotifyBlueskyHandle)
	}
	return out
}

// blueskyOAuth is the atproto OAuth client that serve signs members in
// with and work resumes their sessions with: both must build it from the
// same PASSERELLE_PUBLIC_URL (the client id derives from it). Plain-http
// PDSes of PASSERELLE_BLUESKY_HOSTS (the local one) are allowed.
func (c *Config) blueskyOAuth(sessions bluesky.SessionStore, rdb *redis.Client) *bluesky.OAuth {
	var local []string
	for _, h := range list(c.BlueskyHosts) {
		if strings.HasPrefix(h, "http://") {
			local = append(local, h)
		}
	}
	return bluesky.NewOAuth(bluesky.OAuthOptions{PublicURL: c.PublicURL, CallbackPath: "/signin/bluesky/callback",
		PLCURL: c.PLCURL, LocalPDS: local, Sessions: sessions, Redis: rdb, Box: c.Box()})
}
