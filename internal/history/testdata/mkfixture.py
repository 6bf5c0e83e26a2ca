# Writes objects.jsonl: audit events of four objects (a ConfigMap, a
# Deployment, a Secret, a cert-manager Certificate) as the API server logs
# them, grouped by object (not in time order, on purpose). Run once:
# python3 mkfixture.py
import json, datetime, base64, os
out = []
T0 = datetime.datetime(2026, 11, 20, 9, 0, 0, tzinfo=datetime.timezone.utc)
def ts(sec, ms=0):
    t = T0 + datetime.timedelta(seconds=sec, milliseconds=ms)
    return t.strftime('%Y-%m-%dT%H:%M:%S.') + '%06dZ' % (t.microsecond)
alice = {"username":"alice@corp.example","groups":["payments-devs","system:authenticated"]}
eks = {"username":"kubernetes-admin","uid":"aws-iam-authenticator:111122223333:AROAEXAMPLEROLEID0001","groups":["system:masters","system:authenticated"],"extra":{"accessKeyId":["ASIAEXAMPLEKEY7Q2XRJ"],"arn":["arn:aws:sts::111122223333:assumed-role/EKSClusterAdmin/alice@corp.example"],"canonicalArn":["arn:aws:iam::111122223333:role/EKSClusterAdmin"],"principalId":["AROAEXAMPLEROLEID0001"],"sessionName":["alice@corp.example"]}}
web = {"username":"system:serviceaccount:production:web-frontend","uid":"6c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f","groups":["system:serviceaccounts","system:serviceaccounts:production","system:authenticated"],"extra":{"authentication.kubernetes.io/credential-id":["JTI=9c1f2a7e-64d0-4b8e-b1f4-0c7d9a3e5f11"],"authentication.kubernetes.io/node-name":["ip-10-0-1-219.eu-west-1.compute.internal"],"authentication.kubernetes.io/node-uid":["1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d"],"authentication.kubernetes.io/pod-name":["web-frontend-7d9c5b6f4-x2x7p"],"authentication.kubernetes.io/pod-uid":["f0e1d2c3-b4a5-4968-8776-655443322110"]}}
argocd = {"username":"system:serviceaccount:argocd:argocd-application-controller","uid":"0b7a6c5d-4e3f-4a2b-9c1d-8e7f6a5b4c3d","groups":["system:serviceaccounts","system:serviceaccounts:argocd","system:authenticated"],"extra":{"authentication.kubernetes.io/credential-id":["JTI=2d9e8f7a-6b5c-4d3e-9f2a-1b0c9d8e7f6a"],"authentication.kubernetes.io/node-name":["ip-10-0-2-20.eu-west-1.compute.internal"],"authentication.kubernetes.io/pod-name":["argocd-application-controller-0"]}}
depctl = {"username":"system:serviceaccount:kube-system:deployment-controller","uid":"3e4f5a6b-7c8d-4e9f-a0b1-c2d3e4f5a6b7","groups":["system:serviceaccounts","system:serviceaccounts:kube-system","system:authenticated"]}
admin = {"username":"admin@corp.example","groups":["platform-admins","system:authenticated"]}
carol = {"username":"carol@corp.example","groups":["payments-devs","system:authenticated"]}
kubectl = "kubectl/v1.31.2 (linux/amd64) kubernetes/5864a46"
n = [0]
def ev(sec, verb, user, ref, level, code, req=None, resp=None, stage="ResponseComplete", sub=None, uri=None, ua=kubectl, ip="10.20.0.5", decision="allow", reason="", imp=None, msg=None, auditid=None, recv_ms=-12):
    n[0] += 1
    aid = auditid or "%08x-0000-4000-8000-%012x" % (0x1000 + n[0], n[0])
    res, ns, name, group, ver = ref
    if uri is None:
        base = ("/api/%s" % ver) if group == "" else ("/apis/%s/%s" % (group, ver))
        uri = base + ("/namespaces/%s" % ns if ns else "") + "/" + res + ("" if verb == "create" and sub is None else "/" + name) + ("/" + sub if sub else "")
    e = {"kind":"Event","apiVersion":"audit.k8s.io/v1","level":level,"auditID":aid,"stage":stage,"requestURI":uri,"verb":verb,"user":user}
    if imp: e["impersonatedUser"] = imp
    e["sourceIPs"] = [ip]; e["userAgent"] = ua
    o = {"resource":res}
    if ns: o["namespace"] = ns
    if name and not (stage == "RequestReceived" and verb == "create"): o["name"] = name
    if group: o["apiGroup"] = group
    o["apiVersion"] = ver
    if sub: o["subresource"] = sub
    e["objectRef"] = o
    if stage != "RequestReceived":
        rs = {"metadata":{},"code":code}
        if code >= 400:
            rs["status"] = "Failure"; rs["message"] = msg or ""; rs["reason"] = {403:"Forbidden",409:"Conflict",422:"Invalid"}.get(code,"")
        e["responseStatus"] = rs
    if req is not None and level in ("Request","RequestResponse"): e["requestObject"] = req
    if resp is not None and level == "RequestResponse" and stage != "RequestReceived": e["responseObject"] = resp
    e["requestReceivedTimestamp"] = ts(sec, recv_ms)
    e["stageTimestamp"] = ts(sec) if stage != "RequestReceived" else ts(sec, recv_ms)
    ann = {"authorization.k8s.io/decision":decision,"authorization.k8s.io/reason":reason}
    e["annotations"] = ann
    return e, aid

def meta(name, ns, rv, uid, created, gen=None, extra=None):
    m = {"name":name,"namespace":ns,"uid":uid,"resourceVersion":str(rv),"creationTimestamp":created}
    if gen is not None: m["generation"] = gen
    m["managedFields"] = [{"manager":"kubectl-client-side-apply","operation":"Update","apiVersion":"v1","time":created,"fieldsType":"FieldsV1","fieldsV1":{"f:data":{}}}]
    if extra: m.update(extra)
    return m

def emit(*evs):
    for e in evs: out.append(json.dumps(e[0] if isinstance(e, tuple) else e, separators=(',',':')))

# ---------------- ConfigMap payments/payments-config ----------------
CM = ("configmaps","payments","payments-config","","v1")
cmuid = "7f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0"
created = "2026-11-20T09:00:00Z"
cm1 = {"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"payments-config","namespace":"payments","labels":{"app":"payments"}},"data":{"LOG_LEVEL":"info","DB_HOST":"db.payments.svc","FEATURE_FLAGS":"checkout-v2=false\nrefunds=true\n"}}
cm1r = json.loads(json.dumps(cm1)); cm1r["metadata"] = meta("payments-config","payments",1001,cmuid,created,extra={"labels":{"app":"payments"}})
# create: RequestReceived (no name yet) then ResponseComplete, written out of order (complete first)
rc, aid = ev(0, "create", alice, CM, "RequestResponse", 201, cm1, cm1r)
rr, _ = ev(0, "create", alice, CM, "RequestResponse", 0, cm1, None, stage="RequestReceived", auditid=aid)
emit(rc, rr)
# JSON merge-style patch of data (ConfigMap: taken as strategic; maps merge the same)
p1 = {"data":{"LOG_LEVEL":"debug"}}
cm2 = json.loads(json.dumps(cm1r)); cm2["data"]["LOG_LEVEL"]="debug"; cm2["metadata"]["resourceVersion"]="1050"
emit(ev(300, "patch", alice, CM, "Request", 200, p1, None))
# JSON patch (RFC 6902) by Argo CD
jp = [{"op":"replace","path":"/data/FEATURE_FLAGS","value":"checkout-v2=true\nrefunds=true\n"},{"op":"add","path":"/metadata/labels/argocd.argoproj.io~1instance","value":"payments"}]
emit(ev(600, "patch", argocd, CM, "Request", 200, jp, None, ua="argocd-application-controller/v2.13.1"))
# Metadata-only stretch: two updates by the controller (policy logs it at Metadata)
emit(ev(900, "update", argocd, CM, "Metadata", 200, ua="argocd-application-controller/v2.13.1"))
emit(ev(960, "patch", argocd, CM, "Metadata", 200, ua="argocd-application-controller/v2.13.1"))
# update at RequestResponse: full object
cm5 = json.loads(json.dumps(cm1r)); cm5["data"] = {"LOG_LEVEL":"warn","DB_HOST":"db-replica.payments.svc","FEATURE_FLAGS":"checkout-v2=true\nrefunds=false\n"}
cm5["metadata"]["labels"]["argocd.argoproj.io/instance"]="payments"; cm5["metadata"]["resourceVersion"]="1302"
up, aid = ev(1200, "update", admin, CM, "RequestResponse", 200, cm5, cm5, imp=carol)
upr, _ = ev(1200, "update", admin, CM, "RequestResponse", 0, cm5, None, imp=carol, stage="RequestReceived", auditid=aid)
emit(up, upr)
# denied delete with the stolen token
emit(ev(1500, "delete", web, CM, "Metadata", 403, decision="forbid", reason="", ip="203.0.113.77", ua="kubectl/v1.31.0 (darwin/arm64) kubernetes/9edcffc",
        msg='configmaps "payments-config" is forbidden: User "system:serviceaccount:production:web-frontend" cannot delete resource "configmaps" in API group "" in the namespace "payments"'))
# delete by EKS admin (alice behind kubernetes-admin): response is a Status
d, _ = ev(1800, "delete", eks, CM, "RequestResponse", 200, {"kind":"DeleteOptions","apiVersion":"meta.k8s.io/v1","propagationPolicy":"Background"},
          {"kind":"Status","apiVersion":"v1","metadata":{},"status":"Success","details":{"name":"payments-config","kind":"configmaps","uid":cmuid}}, ip="198.51.100.14")
emit(d, d)  # delivered twice (at-least-once): counted once

# ---------------- Deployment payments/web ----------------
DP = ("deployments","payments","web","apps","v1")
dpuid = "1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e"
dep = {"kind":"Deployment","apiVersion":"apps/v1","metadata":{"name":"web","namespace":"payments","labels":{"app":"web"}},
       "spec":{"replicas":3,"selector":{"matchLabels":{"app":"web"}},"template":{"metadata":{"labels":{"app":"web"}},
       "spec":{"containers":[{"name":"web","image":"registry.corp.example/web:1.4.0","ports":[{"containerPort":8080,"protocol":"TCP"}],"env":[{"name":"MODE","value":"prod"}]},
                             {"name":"metrics","image":"registry.corp.example/exporter:0.9","ports":[{"containerPort":9100,"protocol":"TCP"}]}]}}}}
depr = json.loads(json.dumps(dep)); depr["metadata"] = meta("web","payments",2001,dpuid,"2026-11-20T09:01:00Z",gen=1,extra={"labels":{"app":"web"}}); depr["status"] = {}
emit(ev(60, "create", alice, DP, "RequestResponse", 201, dep, depr))
# status update by the deployment controller
st = json.loads(json.dumps(depr)); st["metadata"]["resourceVersion"]="2010"; st["status"] = {"observedGeneration":1,"replicas":3,"updatedReplicas":3,"readyReplicas":3,"availableReplicas":3}
emit(ev(75, "update", depctl, DP, "RequestResponse", 200, st, st, sub="status", ua="kube-controller-manager/v1.31.2 (linux/amd64) kubernetes/5864a46/system:serviceaccount:kube-system:deployment-controller"))
# strategic merge patch of the image (Request level: applied to the previous version)
smp = {"spec":{"template":{"spec":{"containers":[{"name":"web","image":"registry.corp.example/web:1.5.0"}]}}}}
emit(ev(400, "patch", alice, DP, "Request", 200, smp, None, uri="/apis/apps/v1/namespaces/payments/deployments/web?fieldManager=kubectl-set"))
# a denied attempt to change the image with the stolen token (Request level: the patch is recorded)
emit(ev(420, "patch", web, DP, "Request", 403, {"spec":{"template":{"spec":{"containers":[{"name":"web","image":"203.0.113.77:5000/web:backdoor"}]}}}}, None, decision="forbid",
        ip="203.0.113.77", ua="kubectl/v1.31.0 (darwin/arm64) kubernetes/9edcffc",
        msg='deployments.apps "web" is forbidden: User "system:serviceaccount:production:web-frontend" cannot patch resource "deployments" in API group "apps" in the namespace "payments"'))
# strategic merge patch with a directive: remove the metrics container
smp2 = {"spec":{"template":{"spec":{"$setElementOrder/containers":[{"name":"web"}],"containers":[{"name":"metrics","$patch":"delete"}]}}}}
emit(ev(450, "patch", alice, DP, "Request", 200, smp2, None))
# scale subresource: a Scale body
emit(ev(500, "update", alice, DP, "Request", 200, {"kind":"Scale","apiVersion":"autoscaling/v1","metadata":{"name":"web","namespace":"payments"},"spec":{"replicas":5}}, None, sub="scale"))

# ---------------- Secret payments/db-password ----------------
SC = ("secrets","payments","db-password","","v1")
scuid = "9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b"
pw1 = base64.b64encode(b"hunter2-s3cr3t").decode()
pw2 = base64.b64encode(b"correct-horse-battery").decode()
user = base64.b64encode(b"payments").decode()
applied1 = json.dumps({"apiVersion":"v1","data":{"password":pw1,"username":user},"kind":"Secret","metadata":{"annotations":{},"name":"db-password","namespace":"payments"},"type":"Opaque"}, separators=(',',':'))+"\n"
sec1 = {"kind":"Secret","apiVersion":"v1","metadata":{"name":"db-password","namespace":"payments","annotations":{"kubectl.kubernetes.io/last-applied-configuration":applied1}},"type":"Opaque","data":{"password":pw1,"username":user}}
emit(ev(120, "create", alice, SC, "Request", 201, sec1, None, uri="/api/v1/namespaces/payments/secrets?fieldManager=kubectl-client-side-apply&fieldValidation=Strict"))
applied2 = applied1.replace(pw1, pw2)
emit(ev(700, "patch", alice, SC, "Request", 200, {"data":{"password":pw2},"metadata":{"annotations":{"kubectl.kubernetes.io/last-applied-configuration":applied2}}}, None,
        uri="/api/v1/namespaces/payments/secrets/db-password?fieldManager=kubectl-client-side-apply&fieldValidation=Strict"))
emit(ev(800, "patch", argocd, SC, "Request", 200, [{"op":"replace","path":"/data/username","value":base64.b64encode(b"payments-rw").decode()}], None, ua="argocd-application-controller/v2.13.1"))
emit(ev(850, "get", web, SC, "Metadata", 200, ip="203.0.113.77"))

# ---------------- custom resource payments/api-tls (merge patch) ----------------
CR = ("certificates","payments","api-tls","cert-manager.io","v1")
cert = {"apiVersion":"cert-manager.io/v1","kind":"Certificate","metadata":{"name":"api-tls","namespace":"payments"},"spec":{"secretName":"api-tls","dnsNames":["api.corp.example","api-internal.corp.example"],"issuerRef":{"name":"corp-ca","kind":"ClusterIssuer"},"duration":"2160h"}}
certr = json.loads(json.dumps(cert)); certr["metadata"] = meta("api-tls","payments",3001,"5a4b3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d","2026-11-20T09:02:00Z",gen=1)
emit(ev(130, "create", alice, CR, "RequestResponse", 201, cert, certr))
emit(ev(1000, "patch", alice, CR, "Request", 200, {"spec":{"dnsNames":["api.corp.example"],"duration":None}}, None, uri="/apis/cert-manager.io/v1/namespaces/payments/certificates/api-tls?fieldManager=kubectl-patch"))

open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "objects.jsonl"), "w").write("\n".join(out)+"\n")
print(len(out))
