# The Ansible collection qemuctl.vm (contrib/ansible): installed where
# ansible-core looks for collections (with prefix /usr,
# /usr/share/ansible/collections is on its default COLLECTIONS_PATHS).
ansiblecolldir = $(datadir)/ansible/collections/ansible_collections/qemuctl/vm
dist_ansiblecoll_DATA = contrib/ansible/galaxy.yml contrib/ansible/README.md
ansiblecollmetadir = $(ansiblecolldir)/meta
dist_ansiblecollmeta_DATA = contrib/ansible/meta/runtime.yml
ansiblecollmodulesdir = $(ansiblecolldir)/plugins/modules
dist_ansiblecollmodules_DATA = contrib/ansible/plugins/modules/qemuctl_vm.py \
	contrib/ansible/plugins/modules/qemuctl_image.py \
	contrib/ansible/plugins/modules/qemuctl_net.py \
	contrib/ansible/plugins/modules/qemuctl_snapshot.py \
	contrib/ansible/plugins/modules/qemuctl_info.py
ansiblecollutilsdir = $(ansiblecolldir)/plugins/module_utils
dist_ansiblecollutils_DATA = contrib/ansible/plugins/module_utils/qemuctl.py
ansiblecollfragmentsdir = $(ansiblecolldir)/plugins/doc_fragments
dist_ansiblecollfragments_DATA = contrib/ansible/plugins/doc_fragments/qemuctl.py

# Its tests: ansible-doc and playbooks against this host and, at once,
# through an sshd of the test's own (ansible.sh), the ansible-test sanity
# tests (ansible-sanity.sh).
EXTRA_DIST += contrib/ansible/local.mk contrib/ansible/tests docs/many-hosts.md \
	tests/integration/ansible-lib.sh
dist_noinst_SCRIPTS += tests/integration/ansible.sh tests/integration/ansible-sanity.sh
TESTS += tests/integration/ansible.sh tests/integration/ansible-sanity.sh

# The Debian package qemuctl-ansible (debian/control).
EXTRA_DIST += debian/qemuctl-ansible.install debian/qemuctl-ansible.lintian-overrides
