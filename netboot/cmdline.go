package netboot

import "strings"

// A kernel command line as a list of words, edited in place so that every
// word the edit does not touch keeps its text and its order.
//
// Words split as the kernel splits them (lib/cmdline.c, next_arg): on
// blanks, except inside double quotes, so param="a b" is one word. A
// word's key is what comes before its first '=' (the whole word for a flag
// such as rd.live.image); its value, what follows, without surrounding
// quotes.
type cmdline []string

func parseCmdline(s string) cmdline {
	var out cmdline
	start, quoted := -1, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		blank := c <= ' '
		switch {
		case c == '"':
			quoted = !quoted
			if start < 0 {
				start = i
			}
		case blank && !quoted:
			if start >= 0 {
				out = append(out, s[start:i])
				start = -1
			}
		default:
			if start < 0 {
				start = i
			}
		}
	}
	if start >= 0 {
		out = append(out, s[start:])
	}
	return out
}

func (c cmdline) String() string { return strings.Join(c, " ") }

// wordKey returns the key of a word, quotes removed.
func wordKey(w string) string {
	k, _, _ := strings.Cut(w, "=")
	return strings.ReplaceAll(k, `"`, "")
}

// wordValue returns the value of a word and whether it has one. Quotes go
// as the kernel drops them: around the whole word, or around the value.
func wordValue(w string) (string, bool) {
	if rest, ok := strings.CutPrefix(w, `"`); ok {
		w = strings.TrimSuffix(rest, `"`)
	}
	_, v, ok := strings.Cut(w, "=")
	if !ok {
		return "", false
	}
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
		v = v[1 : len(v)-1]
	}
	return v, true
}

// has reports whether a word with key is present.
func (c cmdline) has(key string) bool { return c.index(key) >= 0 }

func (c cmdline) index(key string) int {
	for i, w := range c {
		if wordKey(w) == key {
			return i
		}
	}
	return -1
}

// get returns the value of the last word with key (initramfs scripts read
// the last one: dracut's getarg, initramfs-tools' loops over the line).
func (c cmdline) get(key string) (string, bool) {
	v, ok := "", false
	for _, w := range c {
		if wordKey(w) == key {
			v, ok = wordValue(w)
			if !ok {
				v, ok = "", true
			}
		}
	}
	return v, ok
}

// remove drops every word for which drop returns true.
func (c cmdline) remove(drop func(key, value string, hasValue bool) bool) cmdline {
	out := c[:0]
	for _, w := range c {
		v, ok := wordValue(w)
		if !drop(wordKey(w), v, ok) {
			out = append(out, w)
		}
	}
	return out
}

// removeKeys drops every word whose key is one of keys.
func (c cmdline) removeKeys(keys ...string) cmdline {
	return c.remove(func(k, _ string, _ bool) bool {
		for _, key := range keys {
			if k == key {
				return true
			}
		}
		return false
	})
}

// insert adds a word before the first "--" or "---" (what follows them
// goes to init, or is d-i's list of arguments for the installed system),
// else at the end.
func (c cmdline) insert(w string) cmdline {
	for i, x := range c {
		if x == "--" || x == "---" {
			c = append(c, "")
			copy(c[i+1:], c[i:])
			c[i] = w
			return c
		}
	}
	return append(c, w)
}

// set makes key=value the only word with key: the first such word is
// replaced in place (or kept, when it already says the same), later ones
// dropped; with none, the word is inserted.
func (c cmdline) set(key, value string) cmdline {
	return c.replace(func(k, _ string, _ bool) bool { return k == key }, key+"="+value)
}

// replace puts w in place of the first word that match selects, drops the
// other selected words, and inserts w when none is selected.
func (c cmdline) replace(match func(key, value string, hasValue bool) bool, w string) cmdline {
	out, done := c[:0], false
	for _, x := range c {
		v, ok := wordValue(x)
		if !match(wordKey(x), v, ok) {
			out = append(out, x)
			continue
		}
		if !done {
			if wordKey(x) == wordKey(w) && v == mustValue(w) {
				w = x // already says so: keep its spelling
			}
			out = append(out, w)
			done = true
		}
	}
	if !done {
		return out.insert(w)
	}
	return out
}

func mustValue(w string) string {
	v, _ := wordValue(w)
	return v
}

// setDefault inserts key=value unless a word with key is there.
func (c cmdline) setDefault(key, value string) cmdline {
	if c.has(key) {
		return c
	}
	return c.insert(key + "=" + value)
}

// flag inserts the flag word unless it is there (with or without a value).
func (c cmdline) flag(name string) cmdline {
	if c.has(name) {
		return c
	}
	return c.insert(name)
}

// override applies the operator's words: each takes the place of the
// first word with the same key and drops the others (a flag is added
// once).
func (c cmdline) override(extra cmdline) cmdline {
	for _, w := range extra {
		if w == "--" || w == "---" {
			continue
		}
		k := wordKey(w)
		if _, ok := wordValue(w); !ok {
			c = c.flag(k)
			continue
		}
		c = c.replace(func(key, _ string, _ bool) bool { return key == k }, w)
	}
	return c
}
