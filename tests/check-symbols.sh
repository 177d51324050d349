#!/usr/bin/env bash
# Every exported symbol of libparity.a must carry a known module prefix (STYLE.md §2.2).
set -euo pipefail
lib=${1:?usage: $0 libparity.a}
prefixes='awstime_|awsjson_|awssign_|crypto_|sigv4_|http_|httpreq_|creds_|sts_|perr_|log_|buf_|json_|jdoc_|pyfmt_|utf8_|num_|cgroup_|evloop_|envlist_|jobspec_|resources_|passwd_|caps_|seccomp_profile_|seccomp_program_|fetchuri_|fs_|s3_|secretref_|secrets_|xml_|targz_|untar_|s3transfer_|base64_|eks_token|yaml_'
bad=$(nm -g --defined-only "$lib" | awk 'NF == 3 {print $3}' | grep -Ev "^($prefixes)" || true)
if [ -n "$bad" ]; then
    echo "check-symbols: symbols without a module prefix in $lib:" >&2
    echo "$bad" >&2
    exit 1
fi
echo "check-symbols: $(nm -g --defined-only "$lib" | awk 'NF == 3' | wc -l) exported symbols, all prefixed"
