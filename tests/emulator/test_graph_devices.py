"""Microsoft Graph's devices on the emulator and the AADLoginForWindows join (issue 17, scope 1): a Windows VM's
extension registers a device named its hostname on the virtual clock; a VM recreated with the same hostname cannot
join while the old VM's device exists (rule EXT1), and joins once that device is deleted and the extension re-run.
Read back through the SDK, refit's Graph client and the emulator's HTTPS API."""

from __future__ import annotations

import pytest
from azure.core.exceptions import HttpResponseError
from azure.mgmt.compute import models as cm
from azure.mgmt.resource.resources.models import GenericResource, ResourceGroup

from refit.azure import Session, StaticCredential, msgraph
from refit.emulator.server import EmulatorServer
from refit.platform.rules.extensions import JOIN_FAILED

RG = "rg-entra"
HOST = "WIN-APP01"
WS2022 = cm.ImageReference(publisher="MicrosoftWindowsServer", offer="WindowsServer", sku="2022-datacenter-g2",
                           version="latest")
CONTEXT = "/v1.0/$metadata#devices"


def windows_vm(session, sub, name="win1", host=HOST):
    session.resources.resource_groups.create_or_update(RG, ResourceGroup(location="eastus"))
    nic = f"/subscriptions/{sub}/resourceGroups/{RG}/providers/Microsoft.Network/networkInterfaces/{name}-nic"
    session.resources.resources.begin_create_or_update_by_id(
        nic, GenericResource(location="eastus", properties={}), api_version="2024-05-01").result()
    return session.compute.virtual_machines.begin_create_or_update(RG, name, cm.VirtualMachine(
        location="eastus", hardware_profile=cm.HardwareProfile(vm_size="Standard_D2s_v5"),
        identity=cm.VirtualMachineIdentity(type="SystemAssigned"),
        storage_profile=cm.StorageProfile(image_reference=WS2022, os_disk=cm.OSDisk(create_option="FromImage",
                                                                                    delete_option="Delete")),
        os_profile=cm.OSProfile(computer_name=host, admin_username="azureuser", admin_password="P@ssw0rd-1234!"),
        network_profile=cm.NetworkProfile(network_interfaces=[cm.NetworkInterfaceReference(id=nic)]))).result()


def aad_login(session, vm="win1", tag=None):
    """What `az vm extension set -n AADLoginForWindows --publisher Microsoft.Azure.ActiveDirectory` sends."""
    return session.compute.virtual_machine_extensions.begin_create_or_update(RG, vm, "AADLoginForWindows",
        cm.VirtualMachineExtension(location="eastus", properties=cm.VirtualMachineExtensionProperties(
            publisher="Microsoft.Azure.ActiveDirectory", type="AADLoginForWindows", type_handler_version="2.0",
            auto_upgrade_minor_version=True, force_update_tag=tag))).result()


def named(raw, host=HOST):
    r = raw.get("/v1.0/devices", params={"$filter": f"displayName eq '{host}'"})
    assert r.status_code == 200, r.text
    assert r.json()["@odata.context"].endswith(CONTEXT)
    return r.json()["value"]


def entra_status(session, vm="win1"):
    view = session.compute.virtual_machines.instance_view(RG, vm)
    return [(s.code, s.level, s.message) for s in view.statuses if s.code.startswith("EntraDeviceJoin/")]


def test_the_extension_joins_the_vm_under_its_hostname(session, sub, raw):
    vm = windows_vm(session, sub)
    assert named(raw) == []
    assert entra_status(session) == []  # no AADLoginForWindows: nothing to show
    ext = aad_login(session)
    assert ext.provisioning_state == "Succeeded"
    (dev,) = named(raw)
    assert {k: dev[k] for k in ("displayName", "operatingSystem", "trustType", "accountEnabled")} == {
        "displayName": HOST, "operatingSystem": "Windows", "trustType": "AzureAd", "accountEnabled": True}
    assert dev["registrationDateTime"] >= vm.time_created.strftime("%Y-%m-%dT%H:%M:%S")
    assert entra_status(session) == [("EntraDeviceJoin/joined", "Info",
                                      f"AzureAdJoined : YES, DeviceId : {dev['deviceId']}")]
    one = raw.get(f"/v1.0/devices/{dev['id']}").json()
    assert one == {"@odata.context": one["@odata.context"], **dev} and one["@odata.context"].endswith(CONTEXT + "/$entity")
    assert raw.get(f"/v1.0/devices(deviceId='{dev['deviceId']}')").json()["id"] == dev["id"]
    # refit's own Graph client (refit --azure reads the directory with it) sees the same device
    assert msgraph.devices(session.msgraph) == [dev]


def test_a_recreated_vm_cannot_join_until_the_stale_device_is_deleted(session, sub, raw):
    windows_vm(session, sub)
    aad_login(session)
    (old,) = named(raw)
    session.compute.virtual_machines.begin_delete(RG, "win1").result()
    assert named(raw) == [old]  # deleting the VM leaves its device
    windows_vm(session, sub)  # the same hostname
    with pytest.raises(HttpResponseError) as e:
        aad_login(session)
    message = JOIN_FAILED.format(hostname=HOST, device=old["id"])
    assert e.value.error.code == "VMExtensionProvisioningError"
    assert e.value.error.message == (
        "VM has reported a failure when processing extension 'AADLoginForWindows' (publisher "
        f"'Microsoft.Azure.ActiveDirectory' and type 'AADLoginForWindows'). Error message: '{message}'. More "
        "information on troubleshooting is available at https://aka.ms/vmextensionwindowstroubleshoot.")
    ext = session.compute.virtual_machine_extensions.get(RG, "win1", "AADLoginForWindows", expand="instanceView")
    assert ext.provisioning_state == "Failed"
    assert [(s.code, s.level, s.message) for s in ext.instance_view.statuses] == [
        ("ProvisioningState/failed", "Error", message)]
    assert entra_status(session) == [("EntraDeviceJoin/notJoined", "Warning", f"AzureAdJoined : NO ({message})")]
    assert named(raw) == [old]

    assert raw.delete(f"/v1.0/devices/{old['id']}").status_code == 204
    gone = raw.get(f"/v1.0/devices/{old['id']}")
    assert gone.status_code == 404
    assert {k: gone.json()["error"][k] for k in ("code", "message")} == {
        "code": "Request_ResourceNotFound",
        "message": f"Resource '{old['id']}' does not exist or one of its queried reference-property objects are not "
                   "present."}
    assert set(gone.json()["error"]["innerError"]) == {"date", "request-id", "client-request-id"}
    assert raw.delete(f"/v1.0/devices/{old['id']}").status_code == 404

    assert aad_login(session, tag="retry-1").provisioning_state == "Succeeded"  # a new forceUpdateTag re-runs it
    (new,) = named(raw)
    assert new["id"] != old["id"]
    assert entra_status(session) == [("EntraDeviceJoin/joined", "Info",
                                      f"AzureAdJoined : YES, DeviceId : {new['deviceId']}")]


def test_graph_refusals_in_graph_shape(session, sub, raw, server):
    import httpx

    r = httpx.get(server.url + "/v1.0/devices", verify=str(server.cert))
    assert (r.status_code, r.json()["error"]["code"], r.json()["error"]["message"]) == (
        401, "InvalidAuthenticationToken", "Access token is empty.")
    bad = raw.get("/v1.0/devices", params={"$filter": "displayName gt 'a'"})
    assert (bad.status_code, bad.json()["error"]["code"]) == (400, "Request_UnsupportedQuery")
    assert raw.post("/v1.0/devices", json={}).status_code == 405


def test_devices_survive_a_restart(tmp_path):
    data = tmp_path / "emu"
    srv = EmulatorServer(data, time_scale=10000.0).start()
    try:
        s = Session(srv.endpoint.url, srv.endpoint.subscription, StaticCredential(), srv.endpoint.cert, emulator=True)
        windows_vm(s, srv.endpoint.subscription)
        aad_login(s)
        before = msgraph.devices(s.msgraph)
        s.close()
    finally:
        srv.stop()
    srv = EmulatorServer(data, time_scale=10000.0).start()
    try:
        s = Session(srv.endpoint.url, srv.endpoint.subscription, StaticCredential(), srv.endpoint.cert, emulator=True)
        assert len(before) == 1 and msgraph.devices(s.msgraph) == before
        assert entra_status(s)[0][0] == "EntraDeviceJoin/joined"  # the VM still knows its device
        s.close()
    finally:
        srv.stop()


class RecordingCredential(StaticCredential):
    """The session's credential, recording the scopes refit asks tokens for."""

    def __init__(self):
        self.scopes: list[tuple[str, ...]] = []

    def get_token(self, *scopes, **kwargs):
        self.scopes.append(scopes)
        return super().get_token(*scopes, **kwargs)

    def get_token_info(self, *scopes, options=None):
        self.scopes.append(scopes)
        return super().get_token_info(*scopes, options=options)


def test_refit_reads_graph_with_the_sessions_credential_for_graphs_scope(server, sub):
    from refit.azure.fleet import load_world
    from refit.azure.session import AZURE_ARM

    cred = RecordingCredential()
    s = Session(server.endpoint.url, sub, cred, server.endpoint.cert, emulator=True)
    try:
        windows_vm(s, sub)
        assert load_world(s).devices == []  # no AADLoginForWindows in the fleet: Graph is not asked
        assert cred.scopes == [("https://management.azure.com/.default",)] * len(cred.scopes)
        aad_login(s)
        world = load_world(s)
        assert [d["displayName"] for d in world.devices] == [HOST]
        assert ("https://graph.microsoft.com/.default",) in cred.scopes
    finally:
        s.close()
    # against Azure, the same credential's Graph requests go to Microsoft Graph itself
    assert msgraph.graph_url(Session(AZURE_ARM, sub, cred)) == "https://graph.microsoft.com"
