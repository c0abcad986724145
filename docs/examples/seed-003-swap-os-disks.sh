#!/usr/bin/env bash
# Seed 003, step 06 "Swap OS Disks" (plzm/azure-vm-disk-swap, scripts/06-swap-os-disks), as the blog post prints
# it: one Resource Graph query, then for every VM whose OsDiskName tag differs from its OS disk, one VM after the
# other: az disk show, az vm deallocate, az vm update --os-disk, az vm start. Only `set -eu` is added (so a failed
# az call fails the benchmark). Needs: az logged in (refit emulator az-login), the resource-graph extension,
# jq, and $SUBSCRIPTION_ID. bench/refresh.py and tests/refresh/test_refresh_interop.py run it against the emulator.
set -eu
vms="$(az graph query -q 'Resources | where type =~ "microsoft.compute/virtualmachines" and tags.AutoRefresh =~ "true" | project id, name, location, resourceGroup, currentOsDiskName=properties.storageProfile.osDisk.name, newOsDiskName=tags.OsDiskName' --subscription "$SUBSCRIPTION_ID" --query 'data[].{id:id, name:name, location:location, resourceGroup:resourceGroup, currentOsDiskName:currentOsDiskName, newOsDiskName:newOsDiskName}')"

while read -r id name location resourceGroup currentOsDiskName newOsDiskName
do
    if [[ -z $newOsDiskName ]]
    then
        echo "$location""/""$resourceGroup""/""$name"": OsDiskName tag is not set or value is empty. No change will be made to VM."
    elif [[ "$newOsDiskName" == "$currentOsDiskName" ]]
    then
        echo "$location""/""$resourceGroup""/""$name"": OS disk does NOT need to be changed. No change will be made to VM."
    else
        echo "$location""/""$resourceGroup""/""$name"": OS disk needs to be changed."
        newOsDiskId=$(echo "$(az disk show --subscription $SUBSCRIPTION_ID -g ""$resourceGroup"" -n ""$newOsDiskName"" -o tsv --query "id")" | sed "s/\r//")
        if [[ ! -z $newOsDiskId ]]
        then
            echo "Disk referenced by tag value exists. Starting swap onto VM."

            echo "Deallocate VM"
            az vm deallocate --subscription "$SUBSCRIPTION_ID" -g "$resourceGroup" --name "$name" --verbose

            echo "Update the VM with new OS disk ID"
            az vm update --subscription "$SUBSCRIPTION_ID" -g "$resourceGroup" --verbose \
                -n "$name" --os-disk "$newOsDiskId"

            echo "Start VM"
            az vm start --subscription "$SUBSCRIPTION_ID" -g "$resourceGroup" -n "$name" --verbose
        fi
    fi
done< <(echo "${vms}" | jq -r '.[] | "\(.id) \(.name) \(.location) \(.resourceGroup) \(.currentOsDiskName) \(.newOsDiskName)"')
