import { render } from 'preact';
import { askOpeningState } from './api.js';
import { App } from './App.js';

// Asked before the first render (see askOpeningState): an effect would only ask after the first paint.
const opening = askOpeningState();
const root = document.getElementById('app');
if (root) render(<App opening={opening} />, root);
