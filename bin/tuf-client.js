#!/usr/bin/env node
import { launch } from './launch.js';
import { main } from '../dist/tools/tuf-client/cli.js';

launch(main);
