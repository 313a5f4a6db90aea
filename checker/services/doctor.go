package services

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"

	"github.com/moby/moby/client"
)

// Finding is one line of `delab doctor`: what was checked, whether it is
// fine, what was seen, and what to do when it is not.
type Finding struct {
	Check  string
	OK     bool
	Detail string
	Remedy string
}

// MemoryNeeded is what Kafka, HDFS (three DataNodes) and Spark need together.
const MemoryNeeded = 3 << 30

// Diagnose checks what the service tracks need and returns one finding per
// check. It never fails: a problem is a finding with a remedy.
func Diagnose(ctx context.Context, images Images) []Finding {
	var out []Finding
	cli, err := dockerClient(ctx)
	var info client.SystemInfoResult
	if err == nil {
		info, err = cli.Info(ctx, client.InfoOptions{})
		defer cli.Close()
	}
	if err != nil {
		out = append(out, Finding{Check: "Docker engine", Detail: err.Error(),
			Remedy: "install Docker (Docker Desktop, or Debian's docker.io) and start it; if it listens elsewhere, set DOCKER_HOST. The start track works without it."})
		return out
	}
	out = append(out, Finding{Check: "Docker engine", OK: true, Detail: fmt.Sprintf("%s %s on %s, %d CPUs, %.1f GiB", runtimeName(info.Info.OperatingSystem), info.Info.ServerVersion, info.Info.OperatingSystem, info.Info.NCPU, float64(info.Info.MemTotal)/(1<<30))})
	if v := os.Getenv("TESTCONTAINERS_HOST_OVERRIDE"); v != "" {
		out = append(out, Finding{Check: "Container address", OK: true, Detail: "mapped ports are reached on " + v})
	}
	for _, d := range definitions {
		s, ref := d.Name, images.Of(d.Name)
		if _, err := cli.ImageInspect(ctx, ref); err == nil {
			out = append(out, Finding{Check: string(s) + " image", OK: true, Detail: ref + " is present"})
		} else {
			out = append(out, Finding{Check: string(s) + " image", OK: true, Detail: ref + " is not present yet; it will be pulled on first use (about a minute)",
				Remedy: "offline? build the stand-in images with `make images` and export the variables it prints"})
		}
	}
	if avail, err := memAvailable(); err == nil {
		f := Finding{Check: "Free memory", OK: avail >= MemoryNeeded, Detail: fmt.Sprintf("%.1f GiB available, %.1f GiB needed for all three services", float64(avail)/(1<<30), float64(MemoryNeeded)/(1<<30))}
		if !f.OK {
			f.Remedy = "close other programs, or give Docker Desktop more memory (Settings → Resources); labs needing one service still fit"
		}
		out = append(out, f)
	}
	disk := info.Info.DockerRootDir
	if _, err := os.Stat(disk); err != nil {
		disk = os.TempDir()
	}
	var st syscall.Statfs_t
	if err := syscall.Statfs(disk, &st); err == nil {
		free := int64(st.Bavail) * int64(st.Bsize)
		f := Finding{Check: "Free disk", OK: free >= 4<<30, Detail: fmt.Sprintf("%.1f GiB free under %s (images take about 2 GiB)", float64(free)/(1<<30), disk)}
		if !f.OK {
			f.Remedy = "free disk space, or remove unused images with `docker image prune`"
		}
		out = append(out, f)
	}
	if warm, err := WarmRunning(ctx, images); err == nil {
		var names []string
		for _, d := range definitions {
			if warm[d.Name] {
				names = append(names, string(d.Name))
			}
		}
		detail := "none running (checks start services themselves; `delab up` keeps them warm)"
		if len(names) > 0 {
			detail = strings.Join(names, ", ") + " running"
		}
		out = append(out, Finding{Check: "Warm services", OK: true, Detail: detail})
	}
	return out
}

func runtimeName(os string) string {
	if strings.Contains(strings.ToLower(os), "docker desktop") {
		return "Docker Desktop"
	}
	return "Docker Engine"
}

// memAvailable reads MemAvailable from /proc/meminfo.
func memAvailable() (int64, error) {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "MemAvailable:"); ok {
			kb, err := strconv.ParseInt(strings.Fields(rest)[0], 10, 64)
			return kb * 1024, err
		}
	}
	return 0, fmt.Errorf("no MemAvailable in /proc/meminfo")
}

// Running describes one delab container for `delab status`.
type Running struct {
	Service string
	Name    string
	Image   string
	State   string
	Warm    bool
	Ports   []string
}

// List returns the containers delab started that still exist.
func List(ctx context.Context) ([]Running, error) {
	cli, err := dockerClient(ctx)
	if err != nil {
		return nil, err
	}
	defer cli.Close()
	list, err := cli.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: make(client.Filters).Add("label", LabelOwner+"=delab")})
	if err != nil {
		return nil, err
	}
	var out []Running
	for _, c := range list.Items {
		r := Running{Service: c.Labels[LabelRole], Image: c.Image, State: string(c.State), Warm: c.Labels[LabelWarm] == "true"}
		if len(c.Names) > 0 {
			r.Name = strings.TrimPrefix(c.Names[0], "/")
		}
		seen := map[string]bool{}
		for _, p := range c.Ports {
			port := fmt.Sprintf("%d→%d", p.PrivatePort, p.PublicPort)
			if p.PublicPort != 0 && !seen[port] { // IPv4 and IPv6 bindings repeat each port
				seen[port] = true
				r.Ports = append(r.Ports, port)
			}
		}
		out = append(out, r)
	}
	return out, nil
}
