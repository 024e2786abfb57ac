// Renderer entry: connect to main (preload or WebSocket), build the state, mount the Svelte app.
import { mount } from 'svelte';
import App from './App.svelte';
import { connectTransport } from './lib/transport.ts';
import { StudioState } from './state/studio.svelte.ts';
import './styles.css';

const target = document.getElementById('app');
if (!target) throw new Error('index.html has no #app element');
const studio = new StudioState(connectTransport());
studio.start();
mount(App, { target, props: { studio } });
