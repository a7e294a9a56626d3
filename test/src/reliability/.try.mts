import { startDeployment } from './harness/deployment.ts';
const d = await startDeployment({ dialect: 'sqlite', instances: 1 });
const r = await fetch(d.urls()[0] + '/account/login/'); console.log(r.status, (await r.text()).slice(0, 300));
console.log(d.instances[0].stderr().slice(0, 3000));
await d.close();
