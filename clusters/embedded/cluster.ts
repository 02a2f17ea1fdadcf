// The embedded cluster's bring-up as it reads in a runbook: each line one step with its own teardown
// (steps.ts runs them, and undoes them in reverse).
import { addonsStep, metricsApiStep } from './addons.ts';
import { apiserverStep } from './apiserver.ts';
import { containerdStep } from './containerd.ts';
import { controllerManagerStep, type ControllerManagerOptions } from './controller-manager.ts';
import { etcdStep } from './etcd.ts';
import { imagesStep } from './images.ts';
import { kubeProxyStep } from './kube-proxy.ts';
import { kubeconfigStep } from './kubeconfig.ts';
import { kubeletStep } from './kubelet.ts';
import type { Layout } from './layout.ts';
import { nodeReadyStep } from './node-ready.ts';
import { nodeSettingsStep } from './node-settings.ts';
import { pkiStep } from './pki.ts';
import { podsCleanupStep } from './pods.ts';
import { schedulerStep } from './scheduler.ts';
import type { Step } from './steps.ts';

/** `workload` steps (the service) run after CoreDNS, while metrics-server is still starting. */
export function clusterSteps(layout: Layout, options: ControllerManagerOptions = {}, workload: readonly Step[] = []): Step[] {
  return [
    nodeSettingsStep(layout), // record sysctls and mount propagation; / rshared; guard routes
    pkiStep(layout), // CA, serving, front-proxy, client certificates; service-account keys
    kubeconfigStep(layout), // admin, controller-manager, scheduler, kubelet, kube-proxy
    etcdStep(layout),
    apiserverStep(layout),
    controllerManagerStep(layout, options),
    schedulerStep(layout),
    containerdStep(layout), // private containerd, cgroupfs, overlayfs, CNI bridge config
    imagesStep(layout), // pause, CoreDNS, metrics-server images from our binaries
    podsCleanupStep(layout), // up: nothing; down: containers, mounts, netns, bridge, iptables, cgroups
    kubeletStep(layout),
    nodeReadyStep(layout),
    kubeProxyStep(layout), // iptables mode
    addonsStep(layout, options.timeScale), // CoreDNS, metrics-server
    ...workload,
    metricsApiStep(layout), // metrics.k8s.io answers
  ];
}
