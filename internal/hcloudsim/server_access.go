package hcloudsim

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/hetznercloud/hcloud-go/v2/hcloud/schema"
)

// backupWindows are the daily windows (UTC hours) Hetzner picks from when
// backups are enabled; the API no longer lets the client choose.
var backupWindows = []string{"22-02", "02-06", "06-10", "10-14", "14-18", "18-22"}

// serverEnableBackup turns daily backups on; backup_window shows once the
// action has succeeded. The window is drawn now so that draws stay in
// request order.
func (s *Server) serverEnableBackup(_ context.Context, c *call) (int, any, error) {
	sv, err := s.mutableServer(c)
	if err != nil {
		return 0, nil, err
	}
	window := backupWindows[s.rng.IntN(len(backupWindows))]
	a := s.runServerAction(sv, "enable_backup", s.latency.Quick, func(time.Time) {
		if sv.backupWindow == "" {
			sv.backupWindow = window
		}
	})
	return http.StatusCreated, schema.ServerActionEnableBackupResponse{Action: s.renderAction(a)}, nil
}

// serverDisableBackup turns backups off and, as documented, deletes the
// server's existing backups.
func (s *Server) serverDisableBackup(_ context.Context, c *call) (int, any, error) {
	sv, err := s.mutableServer(c)
	if err != nil {
		return 0, nil, err
	}
	a := s.runServerAction(sv, "disable_backup", s.latency.Quick, func(time.Time) {
		sv.backupWindow = ""
		for id, img := range s.st.images {
			if img.typ == "backup" && img.boundTo != nil && *img.boundTo == sv.ID {
				delete(s.st.images, id)
			}
		}
	})
	return http.StatusCreated, schema.ServerActionDisableBackupResponse{Action: s.renderAction(a)}, nil
}

// serverRequestConsole hands out VNC-over-websocket credentials. Nothing
// serves the console: the URL names port 9 (discard) on 127.0.0.1 so that a
// client that does connect stays on loopback and fails at once.
func (s *Server) serverRequestConsole(_ context.Context, c *call) (int, any, error) {
	sv, err := s.mutableServer(c)
	if err != nil {
		return 0, nil, err
	}
	token, password := s.randomPassword(), s.randomPassword()
	a := s.runServerAction(sv, "request_console", s.latency.Quick, nil)
	return http.StatusCreated, schema.ServerActionRequestConsoleResponse{
		Action:   s.renderAction(a),
		WSSURL:   fmt.Sprintf("wss://127.0.0.1:9/?server_id=%d&token=%s", sv.ID, token),
		Password: password,
	}, nil
}

// serverResetPassword returns the new root password at once. The reset is
// done by the guest agent, so on a server that is not running the action
// fails, as the API documents it must be running.
func (s *Server) serverResetPassword(_ context.Context, c *call) (int, any, error) {
	sv, err := s.mutableServer(c)
	if err != nil {
		return 0, nil, err
	}
	pw := s.randomPassword()
	a := s.runServerAction(sv, "reset_password", s.latency.Quick, nil)
	if sv.status != statusRunning {
		a.fail = &schema.ActionError{Code: "action_failed", Message: fmt.Sprintf("server %d is not running", sv.ID)}
	}
	return http.StatusCreated, schema.ServerActionResetPasswordResponse{Action: s.renderAction(a), RootPassword: pw}, nil
}
