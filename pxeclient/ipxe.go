package pxeclient

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
)

// This file runs iPXE scripts as far as a machine left alone runs them:
// menus take their default (or first) item, prompts time out, and the
// commands that load images fetch them. It covers what boot servers
// generate (bootmenu.RenderIPXE, netboot.xyz-style chains), not the whole
// language: no functions of the shell beyond goto, set, isset/iseq and
// the || and && chains.

// ipxeRun is the state of one script run.
type ipxeRun struct {
	f      *fetcher
	vars   map[string]string
	steps  int
	chains int
	kernel bool
	items  []string // items of the last menu, in order
}

// runIPXE runs script (fetched as name) and loads what it boots.
func (f *fetcher) runIPXE(name string, script []byte) error {
	r := &ipxeRun{f: f, vars: f.ipxeVars()}
	return r.script(name, script)
}

func (f *fetcher) ipxeVars() map[string]string {
	rep := f.rep
	v := map[string]string{}
	mac := f.c.MAC
	v["mac"] = mac.String()
	v["mac:hexhyp"] = strings.ReplaceAll(mac.String(), ":", "-")
	v["mac:hexraw"] = strings.ReplaceAll(mac.String(), ":", "")
	if rep.Addr.IsValid() {
		v["ip"] = rep.Addr.Addr().String()
		m := ^uint32(0) << (32 - rep.Addr.Bits())
		var b [4]byte
		binary.BigEndian.PutUint32(b[:], m)
		v["netmask"] = fmt.Sprintf("%d.%d.%d.%d", b[0], b[1], b[2], b[3])
	}
	if rep.Server.IsValid() {
		v["next-server"] = rep.Server.String()
	}
	v["filename"] = rep.BootFile
	v["platform"], v["buildarch"] = "efi", "x86_64"
	if a, ok := f.c.Profile.Discover.Option(93); ok && len(a) == 2 {
		switch binary.BigEndian.Uint16(a) {
		case 0:
			v["platform"], v["buildarch"] = "pcbios", "i386"
		case 11, 19:
			v["buildarch"] = "arm64"
		}
	}
	return v
}

var errIPXEFailed = errors.New("command failed")

// script runs one script; base for relative names is its URL when it
// came over HTTP.
func (r *ipxeRun) script(name string, src []byte) error {
	var base *url.URL
	if u, err := url.Parse(name); err == nil && (u.Scheme == "http" || u.Scheme == "https") {
		base = u
	} else {
		base = r.f.base
	}
	lines := strings.Split(string(src), "\n")
	labels := map[string]int{}
	for i, l := range lines {
		l = strings.TrimSpace(strings.TrimSuffix(l, "\r"))
		lines[i] = l
		if strings.HasPrefix(l, ":") {
			if _, dup := labels[l[1:]]; !dup {
				labels[l[1:]] = i
			}
		}
	}
	for pc := 0; pc < len(lines); pc++ {
		if r.steps++; r.steps > maxIPXESteps {
			return fmt.Errorf("load: iPXE script %s: more than %d steps", name, maxIPXESteps)
		}
		l := lines[pc]
		if l == "" || strings.HasPrefix(l, "#") || strings.HasPrefix(l, ":") {
			continue
		}
		act, err := r.line(l, base)
		if err != nil {
			return fmt.Errorf("load: iPXE script %s line %d: %w", name, pc+1, err)
		}
		switch act.kind {
		case actGoto:
			to, ok := labels[act.arg]
			if !ok {
				return fmt.Errorf("load: iPXE script %s line %d: no label %q", name, pc+1, act.arg)
			}
			pc = to
		case actDone:
			return nil
		case actChain:
			if r.chains++; r.chains > maxChains {
				return fmt.Errorf("load: iPXE script %s: more than %d chained scripts", name, maxChains)
			}
			return r.script(act.arg, act.body)
		case actExit:
			return fmt.Errorf("%w: iPXE script %s exits at line %d", ErrNoKernel, name, pc+1)
		}
	}
	return fmt.Errorf("%w: iPXE script %s ends without booting", ErrNoKernel, name)
}

type actKind int

const (
	actNext actKind = iota
	actGoto
	actDone  // an image was booted
	actChain // act.body is a script to run instead
	actExit
)

type action struct {
	kind actKind
	arg  string
	body []byte
}

// line runs one line: commands joined by || and &&, as iPXE's shell runs
// them. A command's failure decides the chain; a failed download is an
// error of the whole boot.
func (r *ipxeRun) line(l string, base *url.URL) (action, error) {
	words := strings.Fields(l)
	ok := true
	skip := false
	var cmd []string
	run := func() (action, error) {
		if skip || len(cmd) == 0 {
			return action{}, nil
		}
		act, err := r.command(cmd, base)
		if errors.Is(err, errIPXEFailed) {
			ok = false
			return action{}, nil
		}
		ok = err == nil
		return act, err
	}
	for _, w := range words {
		if w != "||" && w != "&&" {
			cmd = append(cmd, w)
			continue
		}
		act, err := run()
		if err != nil || act.kind != actNext {
			return act, err
		}
		// "a || b" runs b only when a failed, "a && b" only when it succeeded.
		skip = (w == "||") == ok
		if !skip {
			ok = true
		}
		cmd = cmd[:0]
	}
	return run()
}

func (r *ipxeRun) expand(s string) string {
	var b strings.Builder
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			break
		}
		j := strings.IndexByte(s[i:], '}')
		if j < 0 {
			break
		}
		b.WriteString(s[:i])
		name := s[i+2 : i+j]
		if k := strings.IndexByte(name, '/'); k >= 0 && strings.HasPrefix(name, "net") {
			name = name[k+1:] // net0/mac → mac
		}
		v, ok := r.vars[name]
		if !ok {
			if k := strings.IndexByte(name, ':'); k >= 0 {
				v = r.vars[name[:k]]
			}
		}
		b.WriteString(v)
		s = s[i+j+1:]
	}
	b.WriteString(s)
	return b.String()
}

// imageArgs drops the options of an image command and returns its URI.
func imageArgs(args []string) (string, bool) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--name" || a == "-n" || a == "--timeout" || a == "-t":
			i++
		case strings.HasPrefix(a, "-"):
		default:
			return a, true
		}
	}
	return "", false
}

func (r *ipxeRun) command(cmd []string, base *url.URL) (action, error) {
	for i := range cmd {
		cmd[i] = r.expand(cmd[i])
	}
	args := cmd[1:]
	switch cmd[0] {
	case "goto":
		if len(args) == 0 {
			return action{}, errIPXEFailed
		}
		return action{kind: actGoto, arg: args[0]}, nil
	case "set":
		if len(args) == 0 {
			return action{}, errIPXEFailed
		}
		r.vars[args[0]] = strings.Join(args[1:], " ")
	case "clear":
		if len(args) > 0 {
			delete(r.vars, args[0])
		}
	case "isset":
		if len(args) == 0 || args[0] == "" {
			return action{}, errIPXEFailed
		}
	case "iseq":
		if len(args) < 2 || args[0] != args[1] {
			return action{}, errIPXEFailed
		}
	case "menu":
		r.items = r.items[:0]
	case "item":
		var key string
		for i := 0; i < len(args); i++ {
			switch a := args[i]; {
			case a == "--gap":
				key = ""
				i = len(args)
			case a == "--key" || a == "-k":
				i++
			case strings.HasPrefix(a, "-"):
			default:
				key = a
				i = len(args)
			}
		}
		if key != "" {
			r.items = append(r.items, key)
		}
	case "choose":
		def, name := "", ""
		for i := 0; i < len(args); i++ {
			switch a := args[i]; {
			case a == "--default" || a == "-d":
				if i+1 < len(args) {
					def = args[i+1]
				}
				i++
			case a == "--timeout" || a == "-t" || a == "--menu" || a == "-m":
				i++
			case strings.HasPrefix(a, "-"):
			default:
				name = a
			}
		}
		if def == "" && len(r.items) > 0 {
			def = r.items[0] // the highlighted item when nobody moves
		}
		if def == "" || name == "" {
			return action{}, errIPXEFailed
		}
		r.vars[name] = def
	case "prompt", "login", "shell":
		return action{}, errIPXEFailed // nobody at the keyboard
	case "exit", "sanboot", "sanhook", "poweroff", "reboot":
		return action{kind: actExit}, nil
	case "kernel", "imgselect", "imgload":
		uri, ok := imageArgs(args)
		if !ok {
			return action{}, errIPXEFailed
		}
		file, err := r.f.getFrom(uri, base, KindKernel, io.Discard, 0)
		if err != nil {
			return action{}, fmt.Errorf("load kernel %s: %w", file.Name, err)
		}
		r.f.rep.Kernel, r.kernel = file.Name, true
	case "initrd", "module", "imgfetch":
		uri, ok := imageArgs(args)
		if !ok {
			return action{}, errIPXEFailed
		}
		if len(r.f.rep.Initrds) >= maxInitrds {
			return action{}, fmt.Errorf("more than %d initrds", maxInitrds)
		}
		file, err := r.f.getFrom(uri, base, KindInitrd, io.Discard, 0)
		if err != nil {
			return action{}, fmt.Errorf("load initrd %s: %w", file.Name, err)
		}
		r.f.rep.Initrds = append(r.f.rep.Initrds, file.Name)
	case "boot", "imgexec":
		if len(args) > 0 && cmd[0] == "imgexec" {
			return r.chain(args, base)
		}
		if !r.kernel {
			return action{}, fmt.Errorf("%w: boot with no kernel loaded", ErrNoKernel)
		}
		return action{kind: actDone}, nil
	case "chain", "chainload":
		return r.chain(args, base)
	}
	// Everything else (echo, sleep, dhcp, ifconf, console, colour, params,
	// param, ntp, …) succeeds without effect here.
	return action{}, nil
}

// chain fetches an image and boots it: a script runs in place of the
// current one, anything else is the program booted.
func (r *ipxeRun) chain(args []string, base *url.URL) (action, error) {
	uri, ok := imageArgs(args)
	if !ok {
		return action{}, errIPXEFailed
	}
	head := &headWriter{max: maxConfigSize}
	file, err := r.f.getFrom(uri, base, KindKernel, head, 0)
	if err != nil {
		return action{}, fmt.Errorf("chain %s: %w", file.Name, err)
	}
	if bytes.HasPrefix(head.b, []byte("#!ipxe")) {
		if head.over {
			return action{}, fmt.Errorf("chain %s: script over %d bytes", file.Name, maxConfigSize)
		}
		r.f.rep.Files[len(r.f.rep.Files)-1].Kind = KindConfig
		return action{kind: actChain, arg: file.Name, body: head.b}, nil
	}
	r.f.rep.Kernel = file.Name
	return action{kind: actDone}, nil
}

// headWriter keeps the first max bytes written to it.
type headWriter struct {
	b    []byte
	max  int
	over bool
}

func (h *headWriter) Write(p []byte) (int, error) {
	n := min(h.max-len(h.b), len(p))
	h.b = append(h.b, p[:n]...)
	if n < len(p) {
		h.over = true
	}
	return len(p), nil
}
