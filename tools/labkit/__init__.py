"""The network-namespace lab of ``docs/lab.md``: the cloud-to-on-prem smoke reproduced for real.

``tools/lab`` (``cli``) builds one set of namespaces per run, starts a real ``routerd serve
--backend linux`` per router, runs the smoke and the faults, and tears everything down. The
pytest suite ``tests/lab`` drives the same steps. Module map:

* ``registry``: the persisted LIFO undo log (a kept run is torn down by a later process).
* ``topology``: namespaces, veths, bridge, addresses and default routes, as data.
* ``fabric``: the cloud fabric namespace (ARP for every address, per-NIC delivery and the
  forwarding/source-dest check) and the provider provisioning step.
* ``internet``: the namespace between the routers' public addresses; OCI's black hole.
* ``vms``: the two VMs' sshd, ssh/scp and ping.
* ``config``: the example pair rewritten for one run (keys, tunnel names).
* ``firewall``: the OCI image's default iptables and the documented host rule.
* ``routers``: one routerd process per router and ``routerctl`` against its socket.
* ``lab``: all of the above for one run (``Lab.up``, ``Lab.down``).
* ``steps``: the step runner and its failure type; ``plans``: which steps each command runs.
* ``smoke``, ``nat``, ``clamp``, ``faults``: the steps themselves.
* ``evidence``: what a failed run leaves behind for a human.
* ``cli``: ``tools/lab up|smoke|faults|down|mobility|redundancy``.

The three-site mobility lab (``tools/lab mobility``, docs/lab.md):

* ``mobtopo``: sites, VMs, namespaces and links; ``mobfabric``: the cloud fabric with
  several NICs (one address, one NIC); ``hypervisor``: the two hypervisor switches a VM
  migrates between;
* ``mobconfig``: every config generated in one place (routerd YAML with the mobility block,
  the hand-played controllers, the tunnels, the BIRD2 reflector ``birdrr``);
* ``mobcontrol``: the control plane behind one interface, routerd or hand-played
  (``handplay``, its rules in ``handplay_rules``);
* ``moblab``: one run built and torn down; ``agents``: probers, streams, ARP sweeps and
  reflector polls inside workers; ``mobmeasure``: figures and verdicts from what they saw;
* ``mobwatch``: checks, figures and the watchers every scenario runs under;
  ``mobscenarios``: the self-check and the four scenarios; ``mobrun``: the command.

The redundant-router lab (``tools/lab redundancy``, docs/lab.md): ``redlab`` builds an
on-prem router pair of routerd (the configs of ``tests/netns/pair_routers``) and a client;
``redrun`` crashes, cuts, pauses the active router and kills its routerd alone, fails back
after each, and reports checks and figures.
"""
