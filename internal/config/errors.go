package config

import (
	"fmt"
	"sort"
	"strings"
)

// FieldError is one problem in the cluster file, tied to the field it concerns.
type FieldError struct {
	File string // file name, for messages
	Line int    // 1-based line of the field in the file; 0 when unknown
	Path string // field path such as workerNodepools[1].count; empty for the whole file
	Msg  string // what is wrong and what would be valid
}

func (e FieldError) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		if e.Line > 0 {
			fmt.Fprintf(&b, ":%d", e.Line)
		}
		b.WriteString(": ")
	}
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Errors is every problem found in a cluster file, so that one run reports them all.
type Errors []FieldError

func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return fmt.Sprintf("%d problem(s) in the cluster file:\n  %s", len(es), strings.Join(lines, "\n  "))
}

// errorList collects FieldErrors while a file is checked.
type errorList struct {
	errs Errors
}

func (l *errorList) add(path, format string, args ...any) {
	l.errs = append(l.errs, FieldError{Path: path, Msg: clipMessage(fmt.Sprintf(format, args...))})
}

func (l *errorList) addLine(line int, path, format string, args ...any) {
	l.errs = append(l.errs, FieldError{Line: line, Path: path, Msg: clipMessage(fmt.Sprintf(format, args...))})
}

// maxMessage bounds a message. Messages quote the value at fault, and a value
// can be megabytes long (a file pasted into a field): its middle is left out,
// so that the start of the value and the advice at the end still show.
const maxMessage = 1024

func clipMessage(msg string) string {
	if len(msg) <= maxMessage {
		return msg
	}
	head, tail := msg[:maxMessage/2], msg[len(msg)-maxMessage/4:]
	// A cut inside a UTF-8 sequence leaves a broken rune at the edge: drop it.
	head, tail = strings.ToValidUTF8(head, ""), strings.ToValidUTF8(tail, "")
	return fmt.Sprintf("%s[... %d bytes left out ...]%s", head, len(msg)-maxMessage/2-maxMessage/4, tail)
}

// finish fills in file names and line numbers (from the decoder's index of field
// paths) and sorts the errors by line, then path, so output is stable.
func (l *errorList) finish(file string, lines map[string]int) error {
	if len(l.errs) == 0 {
		return nil
	}
	for i := range l.errs {
		e := &l.errs[i]
		e.File = file
		if e.Line == 0 {
			e.Line = lineOf(lines, e.Path)
		}
	}
	sort.SliceStable(l.errs, func(i, j int) bool {
		a, b := l.errs[i], l.errs[j]
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Path < b.Path
	})
	return l.errs
}

// lineOf returns the line of path or of its nearest ancestor present in the file
// (a defaulted field has no line of its own, but its parent may).
func lineOf(lines map[string]int, path string) int {
	for p := path; p != ""; p = parentPath(p) {
		if l, ok := lines[p]; ok {
			return l
		}
	}
	return 0
}

func parentPath(p string) string {
	i := strings.LastIndexAny(p, ".[")
	if i < 0 {
		return ""
	}
	return p[:i]
}

// suggest returns the candidate closest to name, or "" when none is close enough to be
// a plausible typo. Terraform-style snake_case names match their camelCase keys.
func suggest(name string, candidates []string) string {
	norm := func(s string) string { return strings.ToLower(strings.ReplaceAll(s, "_", "")) }
	best, bestDist := "", 1<<30
	for _, c := range candidates {
		if norm(c) == norm(name) {
			return c
		}
		if d := levenshtein(strings.ToLower(name), strings.ToLower(c)); d < bestDist {
			best, bestDist = c, d
		}
	}
	limit := max(2, len(name)/3)
	if bestDist <= limit {
		return best
	}
	return ""
}

func levenshtein(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
