// Package labelselector parses and evaluates Hetzner Cloud label selectors.
//
// The grammar is the Kubernetes one the Hetzner API documents: a comma
// separated list of requirements that must all hold ("comma = AND"):
//
//	k=v  k==v  k!=v  k  !k  k in (a,b)  k notin (a,b)
//
// "k!=v" and "k notin (…)" also match when k is absent, as in Kubernetes.
package labelselector

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// Operator is the comparison of one requirement.
type Operator string

// Operators of the selector grammar.
const (
	Equals       Operator = "="
	NotEquals    Operator = "!="
	In           Operator = "in"
	NotIn        Operator = "notin"
	Exists       Operator = "exists"
	DoesNotExist Operator = "!"
)

// Requirement is one comma-separated term of a selector.
type Requirement struct {
	Key      string
	Operator Operator
	Values   []string
}

// Selector is a parsed label selector; the zero value matches everything.
type Selector struct {
	Requirements []Requirement
}

// keyPattern and valuePattern follow the label rules of the Hetzner API (the
// same expressions hcloud-go validates labels with).
var (
	keyPattern   = regexp.MustCompile(`^([a-z0-9A-Z]((?:[\-_.]|[a-z0-9A-Z]){0,253}[a-z0-9A-Z])?/)?[a-z0-9A-Z]((?:[\-_.]|[a-z0-9A-Z]|){0,61}[a-z0-9A-Z])?$`)
	valuePattern = regexp.MustCompile(`^(([a-z0-9A-Z](?:[\-_.]|[a-z0-9A-Z]){0,61})?[a-z0-9A-Z]$|$)`)
)

// ValidKey reports whether k is a valid label key.
func ValidKey(k string) bool { return keyPattern.MatchString(k) }

// ValidValue reports whether v is a valid label value (the empty string is valid).
func ValidValue(v string) bool { return valuePattern.MatchString(v) }

// Parse parses a selector. An empty or blank string yields a selector that
// matches everything.
func Parse(s string) (Selector, error) {
	p := parser{in: s}
	var sel Selector
	p.skipSpace()
	if p.done() {
		return sel, nil
	}
	for {
		req, err := p.requirement()
		if err != nil {
			return Selector{}, fmt.Errorf("invalid label selector %q: %w", s, err)
		}
		sel.Requirements = append(sel.Requirements, req)
		p.skipSpace()
		if p.done() {
			return sel, nil
		}
		if !p.consume(",") {
			return Selector{}, fmt.Errorf("invalid label selector %q: expected ',' at offset %d", s, p.pos)
		}
	}
}

// Matches reports whether labels satisfy every requirement.
func (s Selector) Matches(labels map[string]string) bool {
	for _, r := range s.Requirements {
		if !r.matches(labels) {
			return false
		}
	}
	return true
}

// Empty reports whether the selector has no requirements.
func (s Selector) Empty() bool { return len(s.Requirements) == 0 }

func (r Requirement) matches(labels map[string]string) bool {
	v, ok := labels[r.Key]
	switch r.Operator {
	case Exists:
		return ok
	case DoesNotExist:
		return !ok
	case Equals:
		return ok && v == r.Values[0]
	case NotEquals:
		return !ok || v != r.Values[0]
	case In:
		return ok && slices.Contains(r.Values, v)
	case NotIn:
		return !ok || !slices.Contains(r.Values, v)
	}
	return false
}

// parser is a tiny recursive-descent parser over the selector string.
type parser struct {
	in  string
	pos int
}

func (p *parser) done() bool { return p.pos >= len(p.in) }

func (p *parser) skipSpace() {
	for !p.done() && (p.in[p.pos] == ' ' || p.in[p.pos] == '\t') {
		p.pos++
	}
}

func (p *parser) consume(tok string) bool {
	if strings.HasPrefix(p.in[p.pos:], tok) {
		p.pos += len(tok)
		return true
	}
	return false
}

// word reads a key or value: everything up to a delimiter.
func (p *parser) word() string {
	start := p.pos
	for !p.done() && !strings.ContainsRune(" \t,=!()", rune(p.in[p.pos])) {
		p.pos++
	}
	return p.in[start:p.pos]
}

func (p *parser) requirement() (Requirement, error) {
	p.skipSpace()
	if p.consume("!") {
		p.skipSpace()
		key := p.word()
		if !ValidKey(key) {
			return Requirement{}, fmt.Errorf("invalid key %q", key)
		}
		return Requirement{Key: key, Operator: DoesNotExist}, nil
	}
	key := p.word()
	if !ValidKey(key) {
		return Requirement{}, fmt.Errorf("invalid key %q at offset %d", key, p.pos-len(key))
	}
	p.skipSpace()
	switch {
	case p.done() || p.in[p.pos] == ',':
		return Requirement{Key: key, Operator: Exists}, nil
	case p.consume("=="), p.consume("="):
		return p.single(key, Equals)
	case p.consume("!="):
		return p.single(key, NotEquals)
	}
	op := p.word()
	switch op {
	case "in":
		return p.set(key, In)
	case "notin":
		return p.set(key, NotIn)
	}
	return Requirement{}, fmt.Errorf("unexpected %q after key %q", op, key)
}

func (p *parser) single(key string, op Operator) (Requirement, error) {
	p.skipSpace()
	v := p.word()
	if !ValidValue(v) {
		return Requirement{}, fmt.Errorf("invalid value %q for key %q", v, key)
	}
	return Requirement{Key: key, Operator: op, Values: []string{v}}, nil
}

func (p *parser) set(key string, op Operator) (Requirement, error) {
	p.skipSpace()
	if !p.consume("(") {
		return Requirement{}, fmt.Errorf("expected '(' after %s", op)
	}
	var values []string
	for {
		p.skipSpace()
		v := p.word()
		if v == "" || !ValidValue(v) {
			return Requirement{}, fmt.Errorf("invalid value %q in value set of key %q", v, key)
		}
		values = append(values, v)
		p.skipSpace()
		if p.consume(")") {
			break
		}
		if !p.consume(",") {
			return Requirement{}, fmt.Errorf("expected ',' or ')' in value set of key %q", key)
		}
	}
	return Requirement{Key: key, Operator: op, Values: values}, nil
}
