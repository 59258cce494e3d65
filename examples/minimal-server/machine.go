package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/pxekit/pxekit/nbp"
	"github.com/pxekit/pxekit/netboot"
)

// machinePlans returns the per-machine hook of -kernel/-initrd/-cmdline
// (one plan for every machine, pixiecore-style) or -api (a webhook asked
// per machine), nil for neither. Files of this machine that -kernel and
// -initrd name are added to files, the programs served beside the tree.
func machinePlans(o options, files map[string]string, log *slog.Logger, nt *notes) (netboot.MachineFunc, error) {
	if o.kernel == "" && (o.initrd != "" || o.cmdline != "") {
		return nil, errors.New("-initrd and -cmdline need -kernel")
	}
	if o.kernel != "" && o.api != "" {
		return nil, errors.New("-kernel and -api exclude each other")
	}
	switch {
	case o.kernel != "":
		serve := func(flag, file string, n int) (string, error) {
			if strings.HasPrefix(file, "http://") || strings.HasPrefix(file, "https://") {
				return file, nil
			}
			abs, err := filepath.Abs(file)
			if err != nil {
				return "", fmt.Errorf("-%s %s: %w", flag, file, err)
			}
			if err := checkRegular(abs); err != nil {
				return "", fmt.Errorf("-%s %s: %w", flag, file, err)
			}
			name := "pxekit-" + flag
			if n > 0 {
				name += "-" + strconv.Itoa(n)
			}
			files[name] = abs
			return "/" + name, nil
		}
		var plan netboot.Plan
		var err error
		if plan.Kernel, err = serve("kernel", o.kernel, 0); err != nil {
			return nil, err
		}
		if o.initrd != "" {
			for i, f := range strings.Split(o.initrd, ",") {
				p, err := serve("initrd", f, i+1)
				if err != nil {
					return nil, err
				}
				plan.Initrds = append(plan.Initrds, p)
			}
		}
		plan.Cmdline = o.cmdline
		nt.info(log, noteKernel, "every machine boots one kernel", "plan", plan.String())
		return func(context.Context, nbp.Client) (netboot.Plan, error) { return plan, nil }, nil
	case o.api != "":
		base, err := url.Parse(o.api)
		if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
			return nil, fmt.Errorf("-api %s: want an http:// or https:// URL", o.api)
		}
		client := &http.Client{Timeout: 3 * time.Second}
		return func(ctx context.Context, c nbp.Client) (netboot.Plan, error) {
			return askAPI(ctx, client, *base, c)
		}, nil
	}
	return nil, nil
}

// askAPI asks the -api webhook what the machine c boots.
func askAPI(ctx context.Context, client *http.Client, u url.URL, c nbp.Client) (netboot.Plan, error) {
	q := u.Query()
	q.Set("mac", c.MAC.String())
	if id := c.UUID(); id != "" {
		q.Set("uuid", id)
	}
	if c.ArchSource != nbp.ArchUnknown {
		q.Set("arch", strconv.Itoa(int(c.Arch)))
	}
	q.Set("firmware", firmware(c))
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return netboot.Plan{}, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return netboot.Plan{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return netboot.Plan{}, fmt.Errorf("-api: %s answered %s", u.Redacted(), resp.Status)
	}
	var p netboot.Plan
	dec := json.NewDecoder(io.LimitReader(resp.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return netboot.Plan{}, fmt.Errorf("-api: %s: %w", u.Redacted(), err)
	}
	return p, nil
}

// firmware names the kind of boot client for the webhook.
func firmware(c nbp.Client) string {
	switch {
	case c.IPXE:
		return "ipxe"
	case c.VendorClass.Class == "HTTPClient":
		return "uefi-http"
	case c.ArchSource != nbp.ArchUnknown && c.Arch == 0:
		return "bios"
	case c.ArchSource != nbp.ArchUnknown:
		return "uefi"
	}
	return "unknown"
}

// checkRegular reports an error unless p is a regular file.
func checkRegular(p string) error {
	st, err := os.Stat(p)
	if err != nil {
		return err
	}
	if !st.Mode().IsRegular() {
		return errors.New("not a regular file")
	}
	return nil
}
