package hcloudsim

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/hetznercloud/hcloud-go/v2/hcloud/schema"
)

// call carries one decoded request into an endpoint handler.
type call struct {
	r    *http.Request
	body []byte
}

// decode unmarshals the JSON body into v; malformed JSON is json_error like
// the real API. An empty body decodes as {}.
func (c *call) decode(v any) error {
	if len(strings.TrimSpace(string(c.body))) == 0 {
		return nil
	}
	if err := json.Unmarshal(c.body, v); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			return errInvalidField(typeErr.Field, "has the wrong type (%s)", typeErr.Value)
		}
		return errf(http.StatusBadRequest, "json_error", "invalid JSON in request body: %v", err)
	}
	return nil
}

// pathID parses the numeric path parameter name; unknown or malformed IDs
// are not_found as in the real API.
func (c *call) pathID(name, kind string) (int64, error) {
	raw := c.r.PathValue(name)
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || id <= 0 {
		return 0, errNotFound(kind, raw)
	}
	return id, nil
}

func (c *call) query(name string) string { return c.r.URL.Query().Get(name) }

func (c *call) queryAll(name string) []string { return c.r.URL.Query()[name] }

// encodeError renders err in the error envelope; non-API errors become 500
// server_error so a simulator bug is visible to the client.
func encodeError(err error) (int, []byte) {
	var ae *apiError
	if !errors.As(err, &ae) {
		ae = errf(http.StatusInternalServerError, "server_error", "internal simulator error: %v", err)
	}
	details := json.RawMessage("null")
	if ae.Details != nil {
		if b, mErr := json.Marshal(ae.Details); mErr == nil {
			details = b
		}
	}
	body, _ := json.Marshal(schema.ErrorResponse{Error: schema.Error{Code: ae.Code, Message: ae.Message, DetailsRaw: details}})
	return ae.Status, body
}

// writeJSON writes an already encoded body.
func writeJSON(w http.ResponseWriter, status int, body []byte) {
	if status == http.StatusNoContent {
		w.WriteHeader(status)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// marshalBody encodes a handler result.
func marshalBody(v any) ([]byte, error) {
	if v == nil {
		return nil, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode response: %w", err)
	}
	return b, nil
}
