#!/usr/bin/env node
import { launch } from './launch.js';
import { main } from '../dist/tools/release/cli.js';

launch(main);
