#!/usr/bin/env node
import { launch } from './launch.js';
import { main } from '../dist/tools/sigv4/cli.js';

launch(main);
