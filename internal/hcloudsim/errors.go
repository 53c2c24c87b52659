package hcloudsim

import (
	"fmt"
	"net/http"
)

// apiError is an error the simulator answers in the real error envelope
// {"error":{"code","message","details"}}.
type apiError struct {
	Status  int
	Code    string
	Message string
	Details any
}

func (e *apiError) Error() string { return fmt.Sprintf("%s (%s)", e.Message, e.Code) }

// fieldError is one entry of invalid_input / uniqueness_error details.
type fieldError struct {
	Name     string   `json:"name"`
	Messages []string `json:"messages,omitempty"`
}

type fieldDetails struct {
	Fields []fieldError `json:"fields"`
}

func errf(status int, code, format string, args ...any) *apiError {
	return &apiError{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

func errNotFound(kind string, id any) *apiError {
	return errf(http.StatusNotFound, "not_found", "%s with ID '%v' not found", kind, id)
}

// errInvalidField reports a validation failure of one request field.
func errInvalidField(field, format string, args ...any) *apiError {
	msg := fmt.Sprintf(format, args...)
	return &apiError{
		Status:  http.StatusBadRequest,
		Code:    "invalid_input",
		Message: fmt.Sprintf("invalid input in field '%s'", field),
		Details: fieldDetails{Fields: []fieldError{{Name: field, Messages: []string{msg}}}},
	}
}

func errUniqueness(field, format string, args ...any) *apiError {
	return &apiError{
		Status:  http.StatusConflict,
		Code:    "uniqueness_error",
		Message: fmt.Sprintf(format, args...),
		Details: fieldDetails{Fields: []fieldError{{Name: field}}},
	}
}

func errLocked(kind string, id int64) *apiError {
	return errf(http.StatusLocked, "locked", "%s %d is locked because an action is running on it", kind, id)
}

func errProtected(kind string, id int64) *apiError {
	return errf(http.StatusForbidden, "protected", "%s %d is protected", kind, id)
}

// errUnprocessable covers the many resource-state codes the API returns with 422.
func errUnprocessable(code, format string, args ...any) *apiError {
	return errf(http.StatusUnprocessableEntity, code, format, args...)
}

func errConflict(format string, args ...any) *apiError {
	return errf(http.StatusConflict, "conflict", format, args...)
}
