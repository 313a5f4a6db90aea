package services

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"syscall"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
)

// Sweep removes what earlier delab processes started and left behind when
// they were killed (kill -9, a crash, a closed terminal): containers and
// networks labelled by delab, not warm, whose owning process is gone.
// With all set, it removes warm services too (`delab down`); services in
// use by a running delab process are always left alone.
func Sweep(ctx context.Context, all bool) (removed []string, err error) {
	cli, err := dockerClient(ctx)
	if err != nil {
		return nil, err
	}
	defer cli.Close()
	list, err := cli.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: make(client.Filters).Add("label", LabelOwner+"=delab")})
	if err != nil {
		return nil, fmt.Errorf("list containers: %w", err)
	}
	gone, errs := removeContainers(ctx, cli, list.Items, func(c container.Summary) bool {
		return orphaned(c.Labels, all)
	})
	for _, c := range gone {
		removed = append(removed, "container "+containerName(c)+" ("+c.Labels[LabelRole]+")")
	}
	nets, err := cli.NetworkList(ctx, client.NetworkListOptions{Filters: make(client.Filters).Add("label", LabelOwner+"=delab")})
	if err != nil {
		return removed, errors.Join(append(errs, fmt.Errorf("list networks: %w", err))...)
	}
	for _, n := range nets.Items {
		if !orphaned(n.Labels, all) {
			continue
		}
		if _, err := cli.NetworkRemove(ctx, n.ID, client.NetworkRemoveOptions{}); err != nil {
			errs = append(errs, fmt.Errorf("remove network %s: %w", n.Name, err))
			continue
		}
		removed = append(removed, "network "+n.Name)
	}
	return removed, errors.Join(errs...)
}

// removeContainers force-removes, with their volumes, the containers in
// list that pick chooses, and returns those it removed and an error for
// each it could not remove: one failure does not stop the others.
func removeContainers(ctx context.Context, cli *testcontainers.DockerClient, list []container.Summary, pick func(container.Summary) bool) (removed []container.Summary, errs []error) {
	for _, c := range list {
		if !pick(c) {
			continue
		}
		if _, err := cli.ContainerRemove(ctx, c.ID, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true}); err != nil {
			errs = append(errs, fmt.Errorf("remove container %s: %w", c.ID[:12], err))
			continue
		}
		removed = append(removed, c)
	}
	return removed, errs
}

// containerName is Docker's name for c ("/name"), or its short ID.
func containerName(c container.Summary) string {
	if len(c.Names) > 0 {
		return c.Names[0]
	}
	return c.ID[:12]
}

// orphaned says whether a labelled object belongs to no live delab process.
func orphaned(labels map[string]string, all bool) bool {
	if labels[LabelWarm] == "true" {
		return all
	}
	pid, err := strconv.Atoi(labels[LabelPID])
	if err != nil || pid <= 0 {
		return true
	}
	if pid == os.Getpid() {
		return false
	}
	return syscall.Kill(pid, 0) != nil
}
